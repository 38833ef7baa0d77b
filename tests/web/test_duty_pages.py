"""Separation of duties and the township line on the pages: a previous approver is refused as delegate
with the API's message, and the proxy form answers a user of elsewhere as it answers an unknown name."""
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.models import HumanTask, Proxy, TaskKind
from app.web.filters import LOCAL_TZ
from tests.integration.processes import act, deploy, my_task, start
from tests.integration.test_duties_and_fallbacks import two_finance_steps
from tests.web.conftest import field_block
from tests.web.helpers import operate


def test_who_decided_another_step_is_refused_as_delegate_on_the_task_page(demo, tmp_path, as_user, browser,
                                                                          db_read):
    deploy(demo, tmp_path, two_finance_steps("two_checks_page"))
    instance = start(as_user("nyb_clerk"), "two_checks_page")
    first = as_user("cz_reviewer")
    act(first, my_task(first, instance["id"])["id"])
    task_id = my_task(as_user("cz_reviewer2"), instance["id"])["id"]

    refused = operate(browser("cz_reviewer2"), task_id, "delegate", {"to": "cz_reviewer", "comment": "请把关"})
    assert refused.status_code == 400
    assert "cz_reviewer：已审批过本申请的其他环节（不相容岗位分离）" in field_block(refused.text, "delegate-to")
    assert db_read(select(HumanTask.id).where(HumanTask.instance_id == instance["id"],
                                              HumanTask.kind == TaskKind.DELEGATE)) == []


def local(moment) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def proxy_message(person, proxy: str) -> str:
    now = clock.now()
    refused = person.submit("/proxies", "/proxies", {
        "proxy": proxy, "starts_at": local(now), "ends_at": local(now + timedelta(days=3))})
    assert refused.status_code == 400
    return field_block(refused.text, "set-proxy").replace(proxy, "…")


def test_the_proxy_form_answers_a_user_of_another_township_as_an_unknown_name(demo, browser, db_read):
    head = browser("qs_head")
    outside, unknown = proxy_message(head, "nyb_head"), proxy_message(head, "no_such_user")
    assert outside == unknown
    assert "…：用户不存在、已停用，或不在你所在的乡镇" in outside
    assert db_read(select(Proxy)) == []
