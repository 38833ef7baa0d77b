"""Deadlines on the real processes, with a pinned clock around 2026's National Day:

    09-30 Wed  work        10-01..10-07  public holiday (国庆 + 中秋)
    10-08 Thu  work (1)    10-09 Fri  work (2)    10-10 Sat  调休 make-up workday (3)
    10-11 Sun  off         10-12 Mon  work (4)   10-13 Tue  work (5)

payment.bpmn gives 财政所合规审核 3 working days, a daily reminder and an escalation after 5 working
days; project_entry.bpmn sends a unit head's untouched review back to the applicant after 5.
"""
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from app.deadlines.sweep import claim_due, fire, sweep_once
from app.models import EventType, HumanTask, InstanceEvent, Notification, PaymentStatus, TaskState, User
from app.runtime import deps
from tests.integration.office import payment_data, project_data

CHINA = timedelta(hours=8)


def beijing(month, day, hour, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - CHINA


@pytest.fixture
def march():
    """Override: these tests start on Wednesday 2026-09-30, 09:00 in 示范镇, and move the clock by hand."""
    with time_machine.travel(beijing(9, 30, 9), tick=False) as traveller:
        yield traveller


def open_task(office, instance_id, bpmn_id) -> HumanTask:
    office.session.expire_all()
    return office.session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                         HumanTask.bpmn_id == bpmn_id,
                                                         HumanTask.state == TaskState.READY))


def notices(office, kind, username=None) -> int:
    office.session.expire_all()
    query = select(func.count()).select_from(Notification).where(Notification.kind == kind)
    if username:
        query = query.join(User, User.id == Notification.user_id).where(User.username == username)
    return office.session.scalar(query)


def events(office, instance_id, type_) -> list[InstanceEvent]:
    office.session.expire_all()
    return list(office.session.scalars(select(InstanceEvent).where(InstanceEvent.instance_id == instance_id,
                                                                   InstanceEvent.type == type_)))


def sweep(office):
    result = sweep_once(deps, datetime.now(UTC))
    office.session.expire_all()
    return result


@pytest.fixture
def at_review(office, funded):
    """A payment waiting at the compliance review since Wednesday 09-30, 09:00."""
    _, (code, _) = funded
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    office.act("nyb_head", iid)
    return iid


def test_the_review_is_due_after_3_working_days_across_the_holiday_and_the_make_up_saturday(office, at_review):
    task = open_task(office, at_review, "finance_review")
    assert task.due_at == beijing(10, 10, 17, 30)  # 10-08, 10-09 and the 调休 Saturday 10-10, by 17:30
    todo = office.as_user("cz_reviewer").get("/api/v1/tasks", query_string={"view": "todo"}).get_json()
    row = next(i["task"] for i in todo["items"] if i["instance"]["id"] == at_review)
    assert row["due_at"].startswith("2026-10-10T09:30:00")  # shown in the inbox row (UTC)
    detail = office.as_user("cz_reviewer").get(f"/api/v1/tasks/{row['id']}").get_json()
    assert detail["due_at"] == row["due_at"]


def test_a_townships_own_day_off_moves_the_deadline_of_its_requests(office, funded):
    from app.deadlines.holidays import import_holidays
    from app.models import Org

    _, (code, _) = funded
    township = office.session.scalar(select(Org).where(Org.code == "SFZ"))
    import_holidays(office.session, township.id, "日期,类型,名称\n2026-10-08,休息,镇庙会\n".encode(), "local.csv",
                    datetime.now(UTC))
    office.session.commit()
    iid = office.start("nyb_clerk", "payment", payment_data(code, "800.00"))["id"]
    office.act("nyb_head", iid)
    # 10-08 is off in 示范镇 too: 10-09, the 调休 Saturday 10-10 and Monday 10-12 are the 3 working days.
    assert open_task(office, iid, "finance_review").due_at == beijing(10, 12, 17, 30)


def test_reminders_come_every_working_day_and_not_on_the_holiday(office, at_review, march):
    reminded = []
    for month, day in [(10, 1), (10, 2), (10, 5), (10, 7), (10, 8), (10, 9), (10, 10), (10, 11), (10, 12)]:
        march.move_to(beijing(month, day, 9, 30))
        sweep(office)
        reminded.append(notices(office, "remind", "cz_reviewer"))
    # The daily timer fires every day; on days off nobody is told. Working days: 10-08, 10-09, 10-10, 10-12.
    assert reminded == [0, 0, 0, 0, 1, 2, 3, 3, 4]
    assert notices(office, "remind", "cz_reviewer2") == 4  # a group task: every candidate is reminded
    assert open_task(office, at_review, "finance_review").remind_count == 4


def test_after_5_working_days_the_review_escalates_to_the_finance_head_and_the_supervisor(office, at_review, march):
    march.move_to(beijing(10, 13, 9, 30))
    sweep(office)
    assert open_task(office, at_review, "finance_review").escalation_level == 0  # due 10-13 17:30, not yet
    march.move_to(beijing(10, 13, 18, 0))
    sweep(office)
    task = open_task(office, at_review, "finance_review")
    assert (task.escalation_level, task.escalated_to_role) == (1, "finance_head")
    assert notices(office, "escalate", "cz_head") == 1 and notices(office, "escalate", "duban") == 1
    [escalated] = events(office, at_review, EventType.TASK_ESCALATED)
    assert escalated.data["to_role"] == "finance_head"
    # Money is never approved by a clock: the request still waits for a person, its amount still held.
    assert task.state == TaskState.READY and office.payment(at_review).status == PaymentStatus.RESERVED
    march.move_to(beijing(10, 14, 18, 0))
    sweep(office)
    assert open_task(office, at_review, "finance_review").escalation_level == 1  # a one-off timer: once


def test_an_untouched_review_goes_back_to_the_applicant_by_an_interrupting_timer(office, march):
    iid = office.start("nyb_clerk", "project_entry", project_data(amount="12000.00"))["id"]
    assert open_task(office, iid, "unit_head_review").due_at == beijing(10, 10, 17, 30)
    march.move_to(beijing(10, 13, 18, 0))
    sweep(office)
    assert office.where(iid) == ["apply"]
    back = open_task(office, iid, "apply")
    assert back.assignee_id == office.as_user("nyb_clerk").user.id
    [fired] = events(office, iid, EventType.TIMER_FIRED)
    assert (fired.data["bpmn_id"], fired.data["interrupting"]) == ("t_unit_timeout", True)
    office.act("nyb_clerk", iid, decision=None, data=project_data(amount="12000.00"))
    assert office.where(iid) == ["unit_head_review"]  # resubmitted: the unit head has it again, a new deadline
    assert open_task(office, iid, "unit_head_review").due_at == beijing(10, 16, 17, 30)


def test_a_sweep_run_twice_or_a_timer_of_a_task_just_completed_has_no_second_effect(office, at_review, march):
    march.move_to(beijing(10, 13, 18, 0))  # nobody swept for two weeks: every due timer at once
    first, second = sweep(office), sweep(office)
    assert first.fired == 1 and second.claimed == 0
    assert len(events(office, at_review, EventType.TASK_ESCALATED)) == 1
    assert notices(office, "remind", "cz_reviewer") == 1  # the missed days' reminders do not pile up
    # A claim taken just before the reviewer acts: firing it afterwards changes nothing.
    march.move_to(beijing(10, 14, 9, 30))
    claimed = claim_due(deps().session, datetime.now(UTC))
    assert claimed == [at_review]  # the daily reminder is due
    office.act("cz_reviewer", at_review)
    assert fire(deps(), at_review)
    assert notices(office, "remind", "cz_reviewer") == 1  # none for 10-14: the task was done


@pytest.mark.postgres
def test_two_sweeps_at_once_fire_each_request_once(office, funded, march, app):
    _, (code, _) = funded
    ids = []
    for n in range(6):
        iid = office.start("nyb_clerk", "payment", payment_data(code, "100.00", contract_no=f"HT-{n}"))["id"]
        office.act("nyb_head", iid)
        ids.append(iid)
    march.move_to(beijing(10, 13, 18, 0))
    results, barrier = [], threading.Barrier(2)

    def run():
        with app.app_context():
            barrier.wait()
            results.append(sweep_once(deps, datetime.now(UTC)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.fired for r in results) == len(ids) and not any(r.failed for r in results)
    for iid in ids:
        assert len(events(office, iid, EventType.TASK_ESCALATED)) == 1

