"""Every new task and every outcome is a notice: in the app, and by the outbox to whoever chose the channel.

The payment chain runs through the API as the demo users (office.py), with the real BPMN; the bank
answers through its signed callback (BANK_ADAPTER=file). Each person gets exactly the notices that
concern them, once per event, never one about their own action; each links to the task or the request.
The outside world is an SMTP server on 127.0.0.1 (aiosmtpd), as in test_outbox.py.
"""
import pytest
from sqlalchemy import select

from app.models import Notification, OutboxMessage, User
from tests.integration.office import BANK_SECRET, payment_data
from tests.integration.test_outbox import smtp_server  # noqa: F401 - the module's SMTP stand-in
from tests.integration.test_resubmission import give_back, resubmit

CLERK_EMAIL = "li.jingban@sfz.example.gov.cn"
HEAD_EMAIL = "zhou.zhuren@sfz.example.gov.cn"
# What the clerk chose: outcomes by email, new tasks only in the app.
CLERK_CHOICE = {"email": ["returned", "rejected", "paid", "bank_returned"], "sms": []}


@pytest.fixture
def app(make_app, smtp_server):  # noqa: F811
    controller, _ = smtp_server
    app = make_app(NOTIFY_CHANNELS="log,email", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port,
                   SMTP_FROM="示范镇财政所 <czs@sfz.example.gov.cn>", SMTP_STARTTLS=False,
                   PUBLIC_BASE_URL="https://czs.sfz.example.gov.cn", BANK_ADAPTER="file",
                   BANK_CALLBACK_SECRET=BANK_SECRET)
    with app.app_context():
        yield app


@pytest.fixture
def addresses(office, funded, smtp_server):  # noqa: F811
    """The clerk (李经办) and the unit head (周主任) have email; the clerk chose which kinds go there."""
    session = office.session
    for username, address in (("nyb_clerk", CLERK_EMAIL), ("nyb_head", HEAD_EMAIL)):
        session.scalar(select(User).where(User.username == username)).email = address
    session.commit()
    saved = office.as_user("nyb_clerk").put("/api/v1/notifications/preferences", json=CLERK_CHOICE)
    assert saved.status_code == 200, saved.get_json()
    smtp_server[1].messages.clear()
    return funded[1][0]


def notices(office, iid) -> dict[str, list[str]]:
    """Everyone's notices about one request: username -> kinds, oldest first."""
    office.session.expire_all()
    rows = office.session.execute(select(User.username, Notification.kind).join(User, User.id == Notification.user_id)
                                  .where(Notification.instance_id == iid).order_by(Notification.id))
    told = {}
    for username, kind in rows:
        told.setdefault(username, []).append(kind)
    return told


def in_app(office, username, iid) -> list[tuple[str, str]]:
    """(kind, link) of the person's notices about the request, newest first, as their list shows them."""
    body = office.as_user(username).get("/api/v1/notifications", query_string={"per_page": 100}).get_json()
    return [(n["kind"], n["link"]) for n in body["items"] if n["instance_id"] == iid]


def sent_out(office, iid, channel) -> list[tuple[str, str]]:
    """(recipient, kind) of the outbox messages by `channel` about the request, oldest first."""
    office.session.expire_all()
    return list(office.session.execute(
        select(OutboxMessage.recipient, Notification.kind)
        .join(Notification, Notification.id == OutboxMessage.notification_id)
        .where(Notification.instance_id == iid, OutboxMessage.channel == channel).order_by(OutboxMessage.id)))


def to_treasury(office, code, amount="800.00") -> int:
    """A small payment (T0) through the unit head, the finance office and the deputy to 国库支付 and the bank."""
    iid = office.start("nyb_clerk", "payment", payment_data(code, amount))["id"]
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    office.act("deputy", iid)
    office.act("guoku", iid)
    return iid


CHAIN = {"nyb_head": ["task"], "cz_reviewer": ["task"], "cz_reviewer2": ["task"], "deputy": ["task"],
         "guoku": ["task"]}


def test_each_approver_hears_of_their_task_and_the_applicant_that_it_was_paid(office, addresses, smtp_server):  # noqa: F811
    iid = office.start("nyb_clerk", "payment", payment_data(addresses, "800.00"))["id"]
    assert notices(office, iid) == {"nyb_head": ["task"]}  # not the clerk: submitting was their own doing
    task = office.task_for("nyb_head", iid)
    assert in_app(office, "nyb_head", iid) == [("task", f"/tasks/{task['id']}")]
    office.act("nyb_head", iid)
    review = office.task_for("cz_reviewer", iid)
    for reviewer in ("cz_reviewer", "cz_reviewer2"):  # a group task: every candidate, each with the link
        assert in_app(office, reviewer, iid) == [("task", f"/tasks/{review['id']}")]
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    office.act("deputy", iid)
    office.act("guoku", iid)
    assert notices(office, iid) == CHAIN  # waiting for the bank is nobody's news yet
    office.bank_says(office.payment(iid).bank_ref, "paid")
    assert notices(office, iid) == {**CHAIN, "nyb_clerk": ["paid"]}  # 已支付 says 已通过 too: one notice
    assert in_app(office, "nyb_clerk", iid) == [("paid", f"/instances/{iid}")]
    listing = office.as_user("nyb_clerk").get("/api/v1/notifications").get_json()
    assert listing["unread_count"] == listing["total"] and listing["items"][0]["kind"] == "paid"

    logged = sent_out(office, iid, "log")
    assert sorted(logged) == sorted((user, kind) for user, kinds in notices(office, iid).items() for kind in kinds)
    # The head never chose: every kind by email. The clerk chose outcomes only.
    assert sent_out(office, iid, "email") == [(HEAD_EMAIL, "task"), (CLERK_EMAIL, "paid")]
    mails = {tuple(rcpt): mail for rcpt, mail in smtp_server[1].messages}
    assert set(mails) == {(HEAD_EMAIL,), (CLERK_EMAIL,)}
    assert mails[(CLERK_EMAIL,)]["Subject"].startswith("已支付：")
    assert f"查看：https://czs.sfz.example.gov.cn/instances/{iid}" in mails[(CLERK_EMAIL,)].get_content()


def test_a_return_tells_whoever_it_returns_to_and_the_applicant_and_the_resubmission_is_a_new_task(office,
                                                                                                   addresses):
    iid = office.start("nyb_clerk", "payment", payment_data(addresses, "800.00"))["id"]
    office.act("nyb_head", iid)
    give_back(office, "cz_reviewer", iid, comment="请补充发票")
    apply = office.task_for("nyb_clerk", iid)
    # Back on the clerk's desk: one notice (退回, with the task), not a 新待办 as well.
    assert in_app(office, "nyb_clerk", iid) == [("returned", f"/tasks/{apply['id']}")]
    assert notices(office, iid) == {"nyb_head": ["task"], "cz_reviewer": ["task"], "cz_reviewer2": ["task"],
                                    "nyb_clerk": ["returned"]}
    resubmit(office, iid)
    assert notices(office, iid)["nyb_head"] == ["task", "task"]  # a task after a return
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    give_back(office, "deputy", iid, target="finance_review", comment="请核对经济分类")
    again = office.task_for("cz_reviewer", iid)
    assert in_app(office, "cz_reviewer", iid)[0] == ("returned", f"/tasks/{again['id']}")  # who did that step
    assert in_app(office, "nyb_clerk", iid)[0] == ("returned", f"/instances/{iid}")  # the applicant: the request
    assert notices(office, iid) == {"nyb_head": ["task", "task"], "cz_reviewer": ["task", "task", "returned"],
                                    "cz_reviewer2": ["task", "task"], "nyb_clerk": ["returned", "returned"],
                                    "deputy": ["task"]}
    body = office.session.scalar(select(Notification.body).where(Notification.instance_id == iid,
                                                                 Notification.kind == "returned")
                                 .order_by(Notification.id.desc()).limit(1))
    assert body == "杨副镇长退回到“财政所合规审核”：请核对经济分类"
    assert [kind for _, kind in sent_out(office, iid, "email") if _ == CLERK_EMAIL] == ["returned", "returned"]


def test_a_rejection_tells_the_applicant_and_not_the_one_who_rejected(office, addresses):
    iid = office.start("nyb_clerk", "payment", payment_data(addresses, "1500.00"))["id"]
    office.act("nyb_head", iid, decision="reject", comment="用途不明")
    assert notices(office, iid) == {"nyb_head": ["task"], "nyb_clerk": ["rejected"]}
    assert in_app(office, "nyb_clerk", iid) == [("rejected", f"/instances/{iid}")]
    assert sent_out(office, iid, "email") == [(HEAD_EMAIL, "task"), (CLERK_EMAIL, "rejected")]


def test_a_bank_return_tells_the_applicant_and_the_treasury_before_and_after_payment(office, addresses):
    refused = to_treasury(office, addresses)
    office.bank_says(office.payment(refused).bank_ref, "returned", "收款账户已销户")
    # The request ends 未通过 by the bank's return: the applicant hears of the return, once.
    assert notices(office, refused) == {**CHAIN, "guoku": ["task", "bank_returned"], "nyb_clerk": ["bank_returned"]}
    assert in_app(office, "guoku", refused)[0] == ("bank_returned", f"/instances/{refused}")
    body = office.session.scalar(select(Notification.body).where(Notification.instance_id == refused,
                                                                 Notification.kind == "bank_returned").limit(1))
    assert "收款账户已销户" in body

    paid = to_treasury(office, addresses, "900.00")
    ref = office.payment(paid).bank_ref
    office.bank_says(ref, "paid")
    office.bank_says(ref, "returned", "收款人户名与账号不符")  # 退票 after it was paid
    assert notices(office, paid) == {**CHAIN, "guoku": ["task", "bank_returned"],
                                     "nyb_clerk": ["paid", "bank_returned"]}
    assert [kind for who, kind in sent_out(office, paid, "email") if who == CLERK_EMAIL] == ["paid", "bank_returned"]
    office.bank_says(ref, "returned", "重复", expect=409)  # a refused answer tells nobody anything
    assert notices(office, paid)["nyb_clerk"] == ["paid", "bank_returned"]


def test_a_proxy_hears_of_the_task_they_may_do_for_the_one_away(office, addresses):
    from datetime import timedelta

    from app import clock

    now = clock.now()
    away = office.as_user("nyb_head").post("/api/v1/proxies", json={
        "proxy": "zfb_head", "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat()})
    assert away.status_code == 201, away.get_json()
    iid = office.start("nyb_clerk", "payment", payment_data(addresses, "800.00"))["id"]
    task = office.task_for("zfb_head", iid)
    assert notices(office, iid) == {"nyb_head": ["task"], "zfb_head": ["task"]}
    assert in_app(office, "zfb_head", iid) == [("task", f"/tasks/{task['id']}")]



@pytest.mark.parametrize("marker, first_told", [({}, ["cz_reviewer", "cz_reviewer2"]),
                                                ({"sequential": True}, ["cz_reviewer"])])
def test_each_open_member_of_a_multi_approver_step_hears_of_their_own_task(demo, tmp_path, as_user, db_session,
                                                                            marker, first_told):
    from tests.integration.processes import act, deploy, my_task, start
    from tests.integration.test_multi_approver import joint_review

    process_id = "joint_seq_told" if marker else "joint_all_told"
    deploy(demo, tmp_path, joint_review(process_id, **marker))
    iid = start(as_user("nyb_clerk"), process_id)["id"]
    told = {u: [k for k, _ in in_app_of(as_user(u), iid)] for u in ("cz_reviewer", "cz_reviewer2")}
    assert told == {u: ["task"] if u in first_told else [] for u in told}
    for username in first_told:  # each member's notice opens their own member task, not the step
        assert in_app_of(as_user(username), iid) == [("task", f"/tasks/{my_task(as_user(username), iid)['id']}")]
    first = as_user("cz_reviewer")
    assert act(first, my_task(first, iid)["id"]).status_code == 200
    assert [k for k, _ in in_app_of(as_user("cz_reviewer2"), iid)] == ["task"]  # in turn: now the second


def in_app_of(api, iid) -> list[tuple[str, str]]:
    body = api.get("/api/v1/notifications", query_string={"per_page": 100}).get_json()
    return [(n["kind"], n["link"]) for n in body["items"] if n["instance_id"] == iid]

# -- 通知设置 through the API ------------------------------------------------------------------------------

def test_preferences_start_with_every_kind_and_a_put_replaces_them(demo, as_user):
    api = as_user("cz_reviewer")
    first = api.get("/api/v1/notifications/preferences")
    assert first.status_code == 200
    body = first.get_json()
    kinds = [k["kind"] for k in body["kinds"]]
    assert body["email"] == kinds == body["sms"] and body["saved_at"] is None
    assert {"task", "returned", "approved", "rejected", "paid", "bank_returned"} <= set(kinds)
    assert {k["kind"]: k["label"] for k in body["kinds"]}["bank_returned"] == "银行退票"
    assert [(c["channel"], c["label"], c["enabled"]) for c in body["channels"]] == [("email", "邮件", True),
                                                                                    ("sms", "短信", False)]
    saved = api.put("/api/v1/notifications/preferences", json={"email": ["paid", "task", "paid"], "sms": []})
    assert saved.status_code == 200, saved.get_json()
    assert (saved.get_json()["email"], saved.get_json()["sms"]) == (["task", "paid"], [])  # in order, once
    assert api.get("/api/v1/notifications/preferences").get_json()["email"] == ["task", "paid"]
    assert as_user("cz_reviewer2").get("/api/v1/notifications/preferences").get_json()["saved_at"] is None


@pytest.mark.parametrize("body, field", [({"email": ["task", "fax"], "sms": []}, "email"),
                                         ({"email": [], "sms": "paid"}, "sms"),
                                         ({"email": []}, "sms"),
                                         ({"email": [], "sms": [], "fax": []}, "fax")])
def test_bad_preferences_answer_400_naming_the_channel_and_save_nothing(demo, as_user, db_session, body, field):
    from app.models import NoticePreference

    response = as_user("cz_reviewer").put("/api/v1/notifications/preferences", json=body)
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["details"]
    assert db_session.scalar(select(NoticePreference).limit(1)) is None


def test_preferences_need_a_login(demo, client):
    assert client.get("/api/v1/notifications/preferences").status_code == 401
    assert client.put("/api/v1/notifications/preferences", json={"email": [], "sms": []}).status_code == 401
