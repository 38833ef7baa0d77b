"""通知设置: from the notifications page, a person ticks which kinds of notice also go by email and by SMS."""
import re

from sqlalchemy import select

from app.models import NoticePreference, User
from tests.web.conftest import Browser, main_text

CHECKBOX = re.compile(r'<input type="checkbox" name="(email|sms)" value="(\w+)"( checked)?>')


def ticked(html: str) -> dict[str, list[str]]:
    found = {"email": [], "sms": []}
    for channel, kind, checked in CHECKBOX.findall(html):
        if checked:
            found[channel].append(kind)
    return found


def test_the_page_is_linked_from_the_notifications_and_lists_every_kind_in_chinese_all_on_at_first(demo, browser):
    head = browser("nyb_head")
    listing = head.get("/notifications").text
    assert 'href="/notifications/preferences"' in listing and "通知设置" in main_text(listing)
    page = head.get("/notifications/preferences")
    assert page.status_code == 200
    text = main_text(page.text)
    for label in ("也发邮件", "也发短信", "新待办到达", "申请被退回", "申请审批通过", "申请未通过", "款项已支付",
                  "银行退票", "催办", "抄送"):
        assert label in text
    assert "站内通知总是都会收到" in text and "目前各类都发" in text
    assert "本站尚未开通邮件通知" in text  # the test site sends by the log only
    assert len(CHECKBOX.findall(page.text)) == 22 and ticked(page.text)["email"] == ticked(page.text)["sms"]
    assert len(ticked(page.text)["email"]) == 11
    assert "task" not in re.sub(r'value="\w+"|name="\w+"|id="[\w-]+"', "", text)  # no English keys shown


def test_saving_keeps_what_was_ticked_and_the_page_shows_it_again(demo, browser, db_read):
    head = browser("nyb_head")
    response = head.submit("/notifications/preferences", "/notifications/preferences",
                           {"email": ["task", "paid"], "sms": []})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications/preferences"
    page = head.get("/notifications/preferences").text
    assert "通知设置已保存" in main_text(page) and "上次保存" in main_text(page)
    assert ticked(page) == {"email": ["task", "paid"], "sms": []}
    [row] = db_read(select(NoticePreference).join(User, User.id == NoticePreference.user_id)
                    .where(User.username == "nyb_head"))
    assert (row.email_kinds, row.sms_kinds) == (["task", "paid"], [])
    api = head.get("/api/v1/notifications/preferences").get_json()
    assert (api["email"], api["sms"]) == (["task", "paid"], [])


def test_a_tampered_kind_is_refused_in_chinese_and_nothing_is_saved(demo, browser, db_read):
    head = browser("nyb_head")
    response = head.submit("/notifications/preferences", "/notifications/preferences",
                           {"email": ["task", "fax"], "sms": ["paid"]})
    assert response.status_code == 400
    text = main_text(response.text)
    assert "通知设置有误" in text and "没有这种通知类别：fax" in text
    assert db_read(select(NoticePreference)) == []


def test_where_the_site_sends_email_and_sms_a_person_without_a_phone_is_told_to_register_one(demo, make_app,
                                                                                           db_session):
    db_session.scalar(select(User).where(User.username == "nyb_clerk")).email = "li@sfz.example.gov.cn"
    db_session.commit()
    site = make_app(NOTIFY_CHANNELS="log,email,sms", SMTP_HOST="127.0.0.1", SMTP_FROM="czs@sfz.example.gov.cn",
                    SMS_WEBHOOK_URL="http://127.0.0.1:9/sms", SMS_WEBHOOK_SECRET="sms-secret")
    clerk = Browser(site.test_client())
    assert clerk.login("nyb_clerk").status_code == 302
    text = main_text(clerk.get("/notifications/preferences").text)
    assert "本站尚未开通" not in text
    assert "你还没有登记手机号" in text and "你还没有登记邮箱" not in text
