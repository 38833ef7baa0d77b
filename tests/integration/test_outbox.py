"""The outbox: every in-app notice also goes out by the enabled channels, written with it, sent after commit.

Real database, real use cases, real senders; only the outside world is stood in for: an SMTP server
(aiosmtpd) and an SMS gateway (http.server) on 127.0.0.1, each in a thread of the test.
"""
import email
import email.policy
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.approvals.deps import transaction
from app.approvals.notices import RANK, notify
from app.models import NoticePreference, Notification, OutboxMessage, OutboxStatus, User
from app.outbox.delivery import BACKOFF, LEASE, deliver_due
from app.outbox.senders import make_senders
from tests.integration.test_approval_flow import the_task
from tests.integration.test_urge import at_finance, urge

SMS_SECRET = "test-sms-secret"
REVIEWER_EMAIL = "jiang.shenhe@sfz.example.gov.cn"
REVIEWER_PHONE = "13800000001"
FAILING_PHONE = "13900000009"
NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """An SMTP server's DATA handler: keeps every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, parsed))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


class Gateway(BaseHTTPRequestHandler):
    """The SMS gateway's webhook: records each POST; answers 500 for a number in `failing`, 200 otherwise."""

    received: list = []
    failing: set = set()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(500 if json.loads(body)["to"] in self.failing else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def sms_gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    server.shutdown()
    server.server_close()


@pytest.fixture
def channels():
    return "log"


@pytest.fixture
def outside(smtp_server, sms_gateway, channels):
    """The app's outbox settings: every sender pointed at the local stand-ins, `channels` enabled."""
    Gateway.received, Gateway.failing = [], {FAILING_PHONE}
    smtp_server[1].messages.clear()
    return {"NOTIFY_CHANNELS": channels, "PUBLIC_BASE_URL": "https://czs.sfz.example.gov.cn/",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server[0].port,
            "SMTP_FROM": "示范镇财政所 <czs@sfz.example.gov.cn>", "SMTP_STARTTLS": False,
            "SMS_WEBHOOK_URL": sms_gateway, "SMS_WEBHOOK_SECRET": SMS_SECRET}


@pytest.fixture
def app(make_app, outside):
    app = make_app(**outside)
    with app.app_context():
        yield app


@pytest.fixture
def people(demo, db_session):
    """蒋审核 (cz_reviewer) has an email and a phone, and takes only 催办 and 抄送 there (通知设置), not the
    新待办 that brings the claim to him; 沈审核 (cz_reviewer2) has neither."""
    reviewer = db_session.scalar(select(User).where(User.username == "cz_reviewer"))
    reviewer.email, reviewer.phone = REVIEWER_EMAIL, REVIEWER_PHONE
    db_session.add(NoticePreference(user_id=reviewer.id, email_kinds=["urge", "cc"], sms_kinds=["urge", "cc"],
                                    updated_at=clock.now()))
    db_session.commit()
    return {u.username: u.id for u in db_session.scalars(select(User))}


@pytest.fixture
def logged(caplog):
    logging.getLogger("township.outbox").disabled = False  # alembic's fileConfig turned off the loggers it found
    caplog.set_level(logging.INFO, logger="township.outbox")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "township.outbox" and r.levelno == logging.INFO]


def outbox(db_session, **where):
    """The messages of the notices under test: not those of the flow's own (a 新待办 on the way to the urge)."""
    db_session.expire_all()
    return db_session.scalars(select(OutboxMessage)
                              .outerjoin(Notification, Notification.id == OutboxMessage.notification_id)
                              .where(or_(Notification.kind.is_(None), Notification.kind.not_in(list(RANK))),
                                     *(getattr(OutboxMessage, k) == v for k, v in where.items()))
                              .order_by(OutboxMessage.notification_id, OutboxMessage.id)).all()


def count(db_session, model) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model))


def urged_at_finance(as_user, db_session):
    """A claim at the finance office urged by its applicant: both reviewers are notified. (instance, task id)"""
    instance = at_finance(as_user)
    task = the_task(as_user("cz_reviewer"), instance["id"])
    response = urge(as_user("swb_clerk"), instance["id"], "报销急用，请尽快")
    assert response.status_code == 200, response.json
    return instance, task["id"]


def test_an_urge_writes_a_log_message_per_notice_and_sends_it_after_the_commit(people, as_user, db_session, logged):
    instance, task_id = urged_at_finance(as_user, db_session)
    notices = {n.user_id: n for n in db_session.scalars(select(Notification).where(Notification.kind == "urge"))}
    messages = outbox(db_session)
    assert sorted((m.channel, m.recipient) for m in messages) == [("log", "cz_reviewer"), ("log", "cz_reviewer2")]
    for m in messages:
        notice = notices[people[m.recipient]]
        assert m.notification_id == notice.id and m.subject == notice.title
        assert m.body == f"{notice.title}\n\n报销急用，请尽快\n\n办理：https://czs.sfz.example.gov.cn/tasks/{task_id}"
        assert (m.status, m.attempts, m.last_error) == (OutboxStatus.SENT, 1, None)
        assert m.created_at == notice.created_at and m.sent_at >= m.created_at
    sent = [line for line in logged() if "催办" in line]  # the 新待办 on the way are logged too
    assert len(sent) == 2 and all(f"/tasks/{task_id}" in line for line in sent)
    assert any("to cz_reviewer2:" in line for line in sent)


def test_a_rolled_back_action_leaves_neither_notice_nor_message_and_sends_nothing(people, db_session, logged):
    with pytest.raises(RuntimeError), transaction(db_session):
        notify(db_session, [people["cz_reviewer"]], kind="urge", title="不会发出", now=clock.now())
        db_session.flush()
        raise RuntimeError("the action fails after notifying")
    assert count(db_session, Notification) == 0 and count(db_session, OutboxMessage) == 0
    assert logged() == []


def test_messages_are_written_by_the_notices_own_commit_and_nothing_leaves_before_it(people, db_session, logged):
    from app.extensions import db

    with transaction(db_session):
        [notice] = notify(db_session, [people["cz_reviewer"]], kind="urge", title="请审核", now=clock.now())
        db_session.flush()
        with db.engine.connect() as other:  # another connection sees only what was committed
            assert other.scalar(select(func.count()).select_from(Notification)) == 0
        assert logged() == []
    [message] = outbox(db_session)
    assert message.notification_id == notice.id and message.status == OutboxStatus.SENT
    assert len(logged()) == 1


def test_a_notice_in_a_rolled_back_savepoint_gets_no_message(people, db_session):
    with transaction(db_session):
        notify(db_session, [people["cz_reviewer"]], kind="urge", title="留下", now=clock.now())
        savepoint = db_session.begin_nested()
        notify(db_session, [people["cz_reviewer2"]], kind="urge", title="撤销", now=clock.now())
        db_session.flush()
        savepoint.rollback()
    assert [m.subject for m in outbox(db_session)] == ["留下"]


@pytest.mark.parametrize("channels", ["log,email,sms"])
def test_each_channel_gets_a_message_only_where_the_user_has_an_address(people, as_user, db_session, smtp_server,
                                                                        sms_gateway):
    _, task_id = urged_at_finance(as_user, db_session)
    by_user = {}
    for m in outbox(db_session):
        user_id = db_session.get(Notification, m.notification_id).user_id
        by_user.setdefault(user_id, []).append((m.channel, m.recipient))
    assert by_user == {
        people["cz_reviewer"]: [("log", "cz_reviewer"), ("email", REVIEWER_EMAIL), ("sms", REVIEWER_PHONE)],
        people["cz_reviewer2"]: [("log", "cz_reviewer2")]}
    assert {m.status for m in outbox(db_session)} == {"sent"}
    [(rcpt, mail)] = smtp_server[1].messages
    assert rcpt == [REVIEWER_EMAIL] and len(Gateway.received) == 1


@pytest.mark.parametrize("channels", ["email"])
def test_the_email_has_the_notice_title_as_utf8_subject_and_the_link_to_the_task(people, as_user, db_session,
                                                                                smtp_server):
    _, task_id = urged_at_finance(as_user, db_session)
    [message] = outbox(db_session)
    [(rcpt, mail)] = smtp_server[1].messages
    assert rcpt == [REVIEWER_EMAIL] and mail["To"] == REVIEWER_EMAIL
    assert mail["From"] == "示范镇财政所 <czs@sfz.example.gov.cn>"
    assert mail["Subject"] == message.subject and "催办" in mail["Subject"]
    assert mail["Message-ID"] == f"<outbox-{message.id}@sfz.example.gov.cn>"
    assert mail.get_content_charset() == "utf-8"
    assert f"办理：https://czs.sfz.example.gov.cn/tasks/{task_id}" in mail.get_content()


@pytest.mark.parametrize("channels", ["sms"])
def test_the_sms_webhook_gets_signed_json_with_the_text_and_the_message_id(people, as_user, db_session, sms_gateway):
    _, task_id = urged_at_finance(as_user, db_session)
    [message] = outbox(db_session)
    [(headers, body)] = Gateway.received
    assert json.loads(body) == {"to": REVIEWER_PHONE, "text": message.body}
    assert f"https://czs.sfz.example.gov.cn/tasks/{task_id}" in json.loads(body)["text"]
    expected = hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Township-Signature"] == f"sha256={expected}"
    assert headers["X-Township-Message-Id"] == str(message.id)
    assert headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("channels", ["log,sms"])
def test_a_failing_send_is_retried_with_backoff_and_marked_failed_after_the_last_try(app, people, as_user,
                                                                                     db_session, logged):
    db_session.get(User, people["cz_reviewer"]).phone = FAILING_PHONE
    db_session.commit()
    senders = make_senders(app.config)
    with time_machine.travel(NOON, tick=False) as traveller:
        urged_at_finance(as_user, db_session)
        [sms] = outbox(db_session, channel="sms")
        assert len(outbox(db_session, channel="log", status="sent")) == 2  # the others went, despite the failure
        assert (sms.status, sms.attempts, sms.next_attempt_at) == ("pending", 1, NOON + BACKOFF[0])
        assert sms.last_error == "RuntimeError: SMS webhook answered 500"
        due = NOON
        for attempt, wait in enumerate(BACKOFF, start=2):
            due += wait
            assert deliver_due(db_session, due - timedelta(seconds=1), senders) == 0  # not yet
            assert outbox(db_session, channel="sms")[0].attempts == attempt - 1
            traveller.move_to(due)
            assert deliver_due(db_session, clock.now(), senders) == 0
            [sms] = outbox(db_session, channel="sms")
            assert sms.attempts == attempt
            if attempt <= len(BACKOFF):
                assert (sms.status, sms.next_attempt_at) == ("pending", due + BACKOFF[attempt - 1])
        assert (sms.status, sms.attempts, sms.sent_at) == ("failed", 6, None)
        assert "500" in sms.last_error
        traveller.move_to(due + timedelta(days=3))
        assert deliver_due(db_session, clock.now(), senders) == 0
        assert outbox(db_session, channel="sms")[0].attempts == 6
    assert len(Gateway.received) == 6


@pytest.mark.parametrize("channels", ["sms"])
def test_a_retry_that_succeeds_marks_the_message_sent(app, people, as_user, db_session):
    db_session.get(User, people["cz_reviewer"]).phone = FAILING_PHONE
    db_session.commit()
    with time_machine.travel(NOON, tick=False) as traveller:
        urged_at_finance(as_user, db_session)
        assert outbox(db_session)[0].attempts == 1
        Gateway.failing = set()  # the gateway is back
        traveller.move_to(NOON + BACKOFF[0])
        assert deliver_due(db_session, clock.now(), make_senders(app.config)) == 1
    [sms] = outbox(db_session)
    assert (sms.status, sms.attempts, sms.sent_at) == ("sent", 2, NOON + BACKOFF[0])


@pytest.mark.parametrize("channels", ["log,email"])
def test_a_message_whose_job_was_lost_is_sent_by_the_sweep_and_only_once(app, people, db_session, smtp_server):
    """The job never ran (Redis lost it): deliver_due picks the message up; the job running late sends nothing."""
    from app.outbox.delivery import deliver_ids

    class Lost:
        def enqueue(self, path, *args):
            pass

    app.extensions["township_jobs"] = Lost()  # the after-commit job is lost (Redis went down)
    with transaction(db_session):
        notify(db_session, [people["cz_reviewer"]], kind="urge", title="请审核", now=clock.now())
    senders = make_senders(app.config)
    assert [m.status for m in outbox(db_session)] == ["pending", "pending"]
    assert deliver_due(db_session, clock.now(), senders) == 2
    assert deliver_ids(db_session, [m.id for m in outbox(db_session)], clock.now() + LEASE, senders) == 0
    assert [m.status for m in outbox(db_session)] == ["sent", "sent"] and len(smtp_server[1].messages) == 1


def test_a_notification_lists_with_a_link_to_its_task_or_for_a_copy_to_its_request(people, as_user, db_session):
    instance, task_id = urged_at_finance(as_user, db_session)
    reviewer = as_user("cz_reviewer")
    copied = reviewer.post(f"/api/v1/tasks/{task_id}/cc", json={"to": ["duban"], "comment": "请知悉"})
    assert copied.status_code == 200, copied.json
    listing = reviewer.get("/api/v1/notifications").json
    assert listing["unread_count"] == 2  # the 新待办 that brought the claim, and the 催办
    [notice, arrived] = listing["items"]
    assert (arrived["kind"], arrived["link"]) == ("task", f"/tasks/{task_id}")
    assert (notice["kind"], notice["task_id"], notice["link"]) == ("urge", task_id, f"/tasks/{task_id}")
    [copy] = as_user("duban").get("/api/v1/notifications").json["items"]
    assert (copy["kind"], copy["link"]) == ("cc", f"/instances/{instance['id']}")
    copy_message = outbox(db_session, recipient="duban")[0]
    assert copy_message.body.endswith(f"查看：https://czs.sfz.example.gov.cn/instances/{instance['id']}")


@pytest.mark.parametrize("setting, problem", [
    ({"NOTIFY_CHANNELS": "log,fax"}, "unknown channel fax"),
    ({"NOTIFY_CHANNELS": "email", "SMTP_HOST": None}, "SMTP_HOST"),
    ({"NOTIFY_CHANNELS": "sms", "SMS_WEBHOOK_SECRET": None}, "SMS_WEBHOOK_SECRET"),
    ({"NOTIFY_CHANNELS": "sms", "SMS_WEBHOOK_URL": "file:///etc/passwd"}, "http"),
])
def test_a_channel_that_cannot_work_stops_the_app_at_start(make_app, outside, setting, problem):
    with pytest.raises(ValueError, match=problem):
        make_app(**{**outside, **setting})


class SlowRecorder:
    """Stands in for a slow outside world: records every send, from whichever deliverer."""

    def __init__(self):
        self.sent, self._lock = [], threading.Lock()

    def send(self, message):
        time.sleep(0.005)
        with self._lock:
            self.sent.append(message.id)


@pytest.mark.postgres
def test_two_deliverers_at_once_send_each_message_exactly_once(app, db_session):
    from app.extensions import db

    engine, now = db.engine, clock.now()
    with transaction(db_session):
        db_session.add_all(OutboxMessage(channel="log", recipient=f"user{i}", subject="并发", body="并发",
                                         status="pending", attempts=0, next_attempt_at=now, created_at=now)
                           for i in range(40))
    recorder, barrier, counts = SlowRecorder(), threading.Barrier(2), []

    def deliverer():
        with Session(engine) as session:
            barrier.wait()
            counts.append(deliver_due(session, now, {"log": recorder}))

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(recorder.sent) == sorted(set(recorder.sent)) and len(recorder.sent) == 40
    assert sum(counts) == 40 and all(counts)  # both worked, neither sent what the other did
    assert {(m.status, m.attempts) for m in outbox(db_session)} == {("sent", 1)}
