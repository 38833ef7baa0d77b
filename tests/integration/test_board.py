"""The supervisors' board (督办看板) against a fixture whose every figure is worked out by hand below.

The clock stands at Monday 2026-10-12 10:00 in 示范镇, just after the National Day week. China's 2026
calendar around it (chinese-calendar): 9-20 (Sun) is a 调休 working day; 9-25..9-27 Mid-Autumn off;
10-1..10-7 National Day off; 10-10 (Sat) a 调休 working day; 10-11 (Sun) off. So the working days counted
back from today are:

    10-12 (1), 10-10 (2), 10-09 (3), 10-08 (4), 09-30 (5), 09-29 (6), 09-28 (7), 09-24 (8), 09-23 (9),
    09-22 (10), 09-21 (11), 09-20 (12) ...

and a task due on day D is overdue by the number of those after D (working_days_between(due, now)).
青山镇 also keeps 10-09 as a local day off (a temple fair), so there 09-30 is only 3 working days back.
"""
import io
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from sqlalchemy import event, select

from app.deadlines.calendar import calendar_for
from app.inbox import board as B
from app.models import HumanTask, LocalHoliday, Org, ProcessDefinition, ProcessInstance, TaskCandidate, User

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 10, 12, 10, 0, tzinfo=BJ)


def bj(month: int, day: int, hour: int = 17, minute: int = 30) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BJ)


@dataclass
class Fixture:
    tasks: dict[str, int]  # label -> task id

    def label(self, task_id: int) -> str:
        return {v: k for k, v in self.tasks.items()}[task_id]


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fixture(pinned, demo, db_session) -> Fixture:
    """Open tasks t1..t12 in 示范镇, q1 in 青山镇, and completed steps for the step times."""
    s = db_session
    users = {u.username: u.id for u in s.scalars(select(User))}
    orgs = {o.code: o.id for o in s.scalars(select(Org))}
    definitions = {d.process_id: d.id for d in s.scalars(select(ProcessDefinition))}
    keys = itertools.count(1)
    tasks: dict[str, int] = {}

    def instance(org: str, title: str, process: str = "payment", initiator: str = "nyb_clerk") -> ProcessInstance:
        row = ProcessInstance(definition_id=definitions[process], process_id=process, org_id=orgs[org],
                              initiator_id=users[initiator], status="running", business_key=f"DB-{next(keys):03d}",
                              title=title, created_at=bj(9, 1, 9, 0), updated_at=bj(9, 1, 9, 0), state="{}")
        s.add(row)
        s.flush()
        return row

    def task(label, inst, bpmn_id, name, role, *, due=None, assignee=None, candidates=(), created=None,
             state="ready", kind="step", completed=None, level=0, escalated_at=None, escalated_to=None,
             fallback=None, process=None):
        row = HumanTask(instance_id=inst.id, kind=kind, bpmn_process_id=process or inst.process_id, bpmn_id=bpmn_id,
                        name=name, role=role, state=state, created_at=created or bj(9, 14, 9, 0), due_at=due,
                        completed_at=completed,
                        assignee_id=users[assignee] if assignee else None, escalation_level=level,
                        escalated_at=escalated_at, escalated_to_role=escalated_to, fallback=fallback,
                        completed_by_id=users[assignee] if completed and assignee else None)
        row.candidates = [TaskCandidate(user_id=users[c]) for c in (candidates or ([assignee] if assignee else []))]
        s.add(row)
        s.flush()
        tasks[label] = row.id

    a = instance("SFZ-NYB", "农田灌溉维修款")
    b = instance("SFZ-SWB", "敬老院取暖费", initiator="swb_clerk")
    c = instance("SFZ-ZFB", "办公用品采购", initiator="zfb_clerk")
    d = instance("SFZ-NYB", "防汛物资运输费")
    e = instance("SFZ-SWB", "低保入户核查差旅费", initiator="swb_clerk")
    f = instance("SFZ-ZFB", "会议室投影仪维修", initiator="zfb_clerk")
    g = instance("SFZ-WSY", "打印机硒鼓", initiator="wsy_clerk")
    h = instance("SFZ-NYB", "农技推广宣传资料")
    i = instance("SFZ-ZFB", "公务用车保险", initiator="zfb_clerk")
    j = instance("SFZ-SWB", "社区活动场地租金", initiator="swb_clerk")
    k = instance("SFZ", "镇本级应急备用金", initiator="czs_clerk")
    m = instance("SFZ-ZXXX", "教室照明线路维修", initiator="xx_clerk")
    plan = instance("SFZ-NYB", "十月用款计划", process="fund_plan")
    q = instance("QSZ", "青山镇道路养护款", initiator="qs_clerk")

    # Open tasks of 示范镇 and what each one is at 10-12 10:00 (working days overdue from the list above).
    task("t1", a, "unit_head_approve", "单位负责人审批", "unit_head", assignee="nyb_head",
         due=bj(10, 12, 9, 0))  # due an hour ago, today: 0 working days -> "<1"
    task("t2", b, "unit_head_approve", "单位负责人审批", "unit_head", assignee="swb_head",
         due=bj(10, 11))  # Sunday: only 10-12 after it -> 1 -> "1-3"
    task("t3", c, "compliance_review", "财政所合规审核", "finance_reviewer", candidates=("cz_reviewer", "cz_reviewer2"),
         due=bj(10, 9))  # Friday: 10-10 (调休 Saturday) and 10-12 -> 2 -> "1-3" (Mon-Fri alone would say 1)
    task("t4", d, "compliance_review", "财政所合规审核", "finance_reviewer", assignee="cz_reviewer",
         due=bj(9, 30), level=1, escalated_at=bj(10, 9, 9, 0),
         escalated_to="finance_head")  # eve of the holiday: 10-08, 09, 10, 12 -> 4 -> "3-7" (12 calendar days)
    task("t5", e, "deputy_approve", "分管领导审批", "deputy_head", assignee="deputy",
         due=bj(9, 24), level=2, escalated_at=bj(10, 8, 10, 0),
         escalated_to="township_head")  # before Mid-Autumn: 09-28, 29, 30 + 4 -> 7 -> "3-7" (upper edge)
    task("t6", f, "township_head_approve", "镇长审批", "township_head", assignee="zhenzhang",
         due=bj(9, 23))  # 09-24 + 7 -> 8 -> ">7" (lower edge)
    task("t7", g, "unit_head_approve", "单位负责人审批", "unit_head", assignee="cz_head", fallback="higher_holder",
         created=bj(9, 15, 9, 0),
         due=bj(9, 19))  # Saturday before the 调休 Sunday: 09-20..24 (5) + 7 -> 12 -> ">7"
    task("t8", h, "apply", "重新提交", "clerk", assignee="nyb_clerk",
         due=bj(10, 12))  # today 17:30: due in 7.5 hours -> due soon
    task("t9", i, "unit_head_approve", "单位负责人审批", "unit_head", assignee="zfb_head",
         due=bj(10, 13, 9, 59))  # in 23 h 59 min -> due soon
    task("t10", j, "unit_head_approve", "单位负责人审批", "unit_head", assignee="swb_head",
         due=bj(10, 13, 10, 0))  # in exactly 24 h -> not due soon: on no list, in no count
    task("t11", k, "treasury_pay", "国库支付", "treasury", fallback="none", created=bj(10, 10, 9, 0))  # nobody, no due
    task("t12", m, "unit_head_approve", "单位负责人审批", "unit_head", assignee="admin", fallback="admin",
         created=bj(10, 9, 9, 0), due=bj(10, 14))  # empty approver, due in two days
    # Not open: never on the board's open lists.
    task("done", a, "apply", "申请", "clerk", assignee="nyb_clerk", due=bj(9, 1), state="completed",
         created=bj(9, 1, 8, 0), completed=bj(9, 1, 9, 0))  # 1 h, but 09-01 is before the period
    task("queued", c, "signer_after", "加签", "finance_head", assignee="cz_head", due=bj(9, 1), state="pending",
         kind="signer_after")
    task("cancelled", b, "deputy_approve", "分管领导审批", "deputy_head", assignee="deputy", due=bj(9, 1),
         state="cancelled", created=bj(10, 1, 9, 0), completed=bj(10, 9, 17, 0))
    # 青山镇, at township level: only the county's auditor oversees it.
    task("q1", q, "compliance_review", "财政所合规审核", "finance_reviewer", assignee="qs_reviewer", due=bj(9, 30))
    s.add(LocalHoliday(township_id=orgs["QSZ"], day=date(2026, 10, 9), is_workday=False, name="青山镇庙会",
                       created_at=NOW))

    # Completed steps for the step times (the default period is 09-13..10-12, Beijing dates).
    for n, (opened, hours) in enumerate([(bj(10, 8, 9, 0), 1), (bj(10, 8, 9, 0), 2), (bj(10, 9, 9, 0), 3),
                                         (bj(10, 12, 5, 0), 4), (bj(9, 12, 14, 0), 10)]):
        # the last one completes 09-13 00:00 Beijing (09-12 16:00 UTC): inside the period, on its first instant
        task(f"uh{n}", a, "unit_head_approve", "单位负责人审批", "unit_head", assignee="nyb_head", state="completed",
             created=opened, completed=opened + timedelta(hours=hours))
    for n, hours in enumerate([24, 48]):
        task(f"cr{n}", d, "compliance_review", "财政所合规审核", "finance_reviewer", assignee="cz_reviewer",
             state="completed", created=bj(10, 8, 9, 0), completed=bj(10, 8, 9, 0) + timedelta(hours=hours))
    for n, hours in enumerate([0.5, 1.5, 2.5, 6.5]):
        task(f"tp{n}", k, "treasury_pay", "国库支付", "treasury", assignee="guoku", state="completed",
             created=bj(9, 28, 9, 0), completed=bj(9, 28, 9, 0) + timedelta(hours=hours))
    task("fp", plan, "finance_approve", "财政所核定", "finance_reviewer", assignee="cz_reviewer2", state="completed",
         created=bj(10, 10, 9, 0), completed=bj(10, 10, 14, 0))
    # Left out of the step times: a sub-task, a cancelled step, a step done before the period, 青山镇's.
    task("member", a, "unit_head_approve", "单位负责人审批", "unit_head", assignee="nyb_head", kind="countersign",
         state="completed", created=bj(10, 1, 9, 0), completed=bj(10, 5, 13, 0))
    task("early", a, "unit_head_approve", "单位负责人审批", "unit_head", assignee="nyb_head", state="completed",
         created=bj(9, 1, 9, 0), completed=bj(9, 12, 23, 30))  # 09-12 23:30 Beijing: the day before the period
    task("qsz_done", q, "compliance_review", "财政所合规审核", "finance_reviewer", assignee="qs_reviewer",
         state="completed", created=bj(10, 1, 9, 0), completed=bj(10, 5, 9, 0))
    s.commit()
    return Fixture(tasks)


# --- what the supervisor of 示范镇 sees -------------------------------------------------------------------

def _hours(step_times) -> list[tuple]:
    """(process, step, count, average, p90) with the hours as text: the app reads JSON numbers as Decimal."""
    return [(s["process_id"], s["bpmn_id"], s["name"], s["count"], str(s["avg_hours"]), str(s["p90_hours"]))
            for s in step_times]


def _ids(fixture, items) -> list[str]:
    return [fixture.label(t["id"]) for t in items]


def _counts(rows, key) -> list[tuple]:
    return [(key(r), r["overdue"], r["due_soon"], r["escalated"], r["empty_approver"]) for r in rows]


def _code(row):
    return row["org"]["code"] if row["org"] else None


def test_the_supervisor_sees_every_overdue_and_due_soon_task_of_the_township_most_overdue_first(fixture, as_user):
    response = as_user("duban").get("/api/v1/overdue")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["as_of"] == "2026-10-12T02:00:00+00:00"
    # due before now + 24 h (10-13 10:00), by due time: t7 09-19, t6 09-23, t5 09-24, t4 09-30, t3 10-09,
    # t2 10-11, t1 10-12 09:00 | due soon: t8 10-12 17:30, t9 10-13 09:59. Not t10 (exactly 24 h), t11 (no due).
    overdue = body["overdue"]
    assert (overdue["total"], overdue["page"], overdue["per_page"]) == (9, 1, 50)
    assert [(fixture.label(t["id"]), t["overdue"], t["overdue_working_days"], t["aging"]) for t in overdue["items"]] \
        == [("t7", True, 12, ">7"), ("t6", True, 8, ">7"), ("t5", True, 7, "3-7"), ("t4", True, 4, "3-7"),
            ("t3", True, 2, "1-3"), ("t2", True, 1, "1-3"), ("t1", True, 0, "<1"),
            ("t8", False, None, None), ("t9", False, None, None)]
    t4 = overdue["items"][3]
    assert t4 == {
        "id": fixture.tasks["t4"], "instance_id": t4["instance_id"], "title": "防汛物资运输费",
        "business_key": "DB-004", "process_id": "payment", "bpmn_id": "compliance_review", "name": "财政所合规审核",
        "kind": "step",
        "org": {"code": "SFZ-NYB", "name": "农业农村办"}, "township": {"code": "SFZ", "name": "示范镇"},
        "unit": {"code": "SFZ-NYB", "name": "农业农村办"}, "role": "finance_reviewer", "role_name": "财政所审核",
        "assignee": {"id": t4["assignee"]["id"], "username": "cz_reviewer", "display_name": "蒋审核"},
        "candidate_count": 1, "created_at": "2026-09-14T01:00:00+00:00", "due_at": "2026-09-30T09:30:00+00:00",
        "overdue": True, "overdue_working_days": 4, "aging": "3-7", "escalation_level": 1,
        "escalated_at": "2026-10-09T01:00:00+00:00", "escalated_to_role": "finance_head", "fallback": None,
        "fallback_name": None,
    }
    t3 = overdue["items"][4]
    assert (t3["assignee"], t3["candidate_count"]) == (None, 2)  # a group task nobody has claimed
    t7 = overdue["items"][0]
    assert (t7["unit"]["name"], t7["fallback"], t7["fallback_name"]) == \
        ("卫生院", "higher_holder", "本级无人，由上级岗位办理")


def test_the_aging_buckets_count_working_days_across_the_holidays(fixture, as_user):
    aging = as_user("duban").get("/api/v1/overdue").json["aging"]
    # "<1": t1 (0) | "1-3": t2 (1), t3 (2) | "3-7": t4 (4), t5 (7) | ">7": t6 (8), t7 (12). 7 overdue in all.
    assert [(a["bucket"], a["count"]) for a in aging] == [("<1", 1), ("1-3", 2), ("3-7", 2), (">7", 2)]
    assert [a["label"] for a in aging] == ["不足1个工作日", "1-3个工作日", "3-7个工作日", "7个工作日以上"]


def test_the_summary_counts_by_township_unit_role_and_person(fixture, as_user):
    summary = as_user("duban").get("/api/v1/overdue").json["summary"]
    # overdue t1..t7 = 7; due soon t8, t9 = 2; escalated t4, t5 = 2; empty approver t7, t11, t12 = 3.
    assert summary["totals"] == {"overdue": 7, "due_soon": 2, "escalated": 2, "empty_approver": 3}
    assert _counts(summary["by_township"], _code) == [("SFZ", 7, 2, 2, 3)]
    # NYB: t1, t4 (escalated) overdue, t8 soon | ZFB: t3, t6 overdue, t9 soon | SWB: t2, t5 (escalated) overdue
    # (t10 counts nowhere) | WSY: t7 overdue, empty | ZXXX: t12 empty | 镇本级 (no unit): t11 empty.
    # Worst first: overdue, then due soon, escalated, empty; ties by code, "no unit" last.
    assert _counts(summary["by_unit"], _code) == [
        ("SFZ-NYB", 2, 1, 1, 0), ("SFZ-ZFB", 2, 1, 0, 0), ("SFZ-SWB", 2, 0, 1, 0), ("SFZ-WSY", 1, 0, 0, 1),
        ("SFZ-ZXXX", 0, 0, 0, 1), (None, 0, 0, 0, 1)]
    # unit_head: t1, t2, t7 overdue, t9 soon, t7 and t12 empty | finance_reviewer: t3, t4 (escalated) |
    # deputy_head: t5 (escalated) | township_head: t6 | clerk: t8 soon | treasury: t11 empty.
    assert _counts(summary["by_role"], lambda r: r["role"]) == [
        ("unit_head", 3, 1, 0, 2), ("finance_reviewer", 2, 0, 1, 0), ("deputy_head", 1, 0, 1, 0),
        ("township_head", 1, 0, 0, 0), ("clerk", 0, 1, 0, 0), ("treasury", 0, 0, 0, 1)]
    assert summary["by_role"][0]["role_name"] == "单位负责人"
    # By assignee; nobody (t3 unclaimed group task, t11 nobody at all) is one row, after equals.
    assert _counts(summary["by_person"], lambda r: r["user"]["username"] if r["user"] else None) == [
        ("cz_reviewer", 1, 0, 1, 0), ("deputy", 1, 0, 1, 0), ("cz_head", 1, 0, 0, 1), (None, 1, 0, 0, 1),
        ("nyb_head", 1, 0, 0, 0), ("swb_head", 1, 0, 0, 0), ("zhenzhang", 1, 0, 0, 0),
        ("nyb_clerk", 0, 1, 0, 0), ("zfb_head", 0, 1, 0, 0), ("admin", 0, 0, 0, 1)]


def test_escalated_and_empty_approver_tasks_are_listed(fixture, as_user):
    body = as_user("duban").get("/api/v1/overdue").json
    # highest level first: t5 (2), t4 (1)
    assert (body["escalated"]["total"], _ids(fixture, body["escalated"]["items"])) == (2, ["t5", "t4"])
    assert [t["escalated_to_role"] for t in body["escalated"]["items"]] == ["township_head", "finance_head"]
    # oldest first: t7 (09-15), t12 (10-09), t11 (10-10); t11 has no due time and nobody to do it
    empty = body["empty_approver"]
    assert (empty["total"], _ids(fixture, empty["items"])) == (3, ["t7", "t12", "t11"])
    assert [(t["fallback"], t["due_at"], t["candidate_count"]) for t in empty["items"]] == [
        ("higher_holder", "2026-09-19T09:30:00+00:00", 1), ("admin", "2026-10-14T09:30:00+00:00", 1),
        ("none", None, 0)]


def test_step_times_give_the_average_and_p90_per_step_slowest_first(fixture, as_user):
    body = as_user("duban").get("/api/v1/overdue").json
    assert (body["period_from"], body["period_to"]) == ("2026-09-13", "2026-10-12")  # 30 days up to today
    # percentile_cont(0.9) of n sorted values: the value at 0.9 * (n - 1), linear between its neighbours.
    assert _hours(body["step_times"]) == [
        ("payment", "compliance_review", "财政所合规审核", 2, "36.0", "45.6"),  # 24, 48: avg 36; 24 + 0.9 * 24
        ("fund_plan", "finance_approve", "财政所核定", 1, "5.0", "5.0"),  # one value, 09:00 -> 14:00
        # 1, 2, 3, 4, 10: avg 20 / 5 = 4; position 0.9 * 4 = 3.6 -> 4 + 0.6 * (10 - 4) = 7.6
        # (not the 106-hour countersign member, nor the step done 09-12 23:30 Beijing)
        ("payment", "unit_head_approve", "单位负责人审批", 5, "4.0", "7.6"),
        # 0.5, 1.5, 2.5, 6.5: avg 11 / 4 = 2.75; position 0.9 * 3 = 2.7 -> 2.5 + 0.7 * (6.5 - 2.5) = 5.3
        ("payment", "treasury_pay", "国库支付", 4, "2.75", "5.3"),
    ]


def test_a_period_moves_the_step_times_window(fixture, as_user):
    body = as_user("duban").get("/api/v1/overdue?period_from=2026-09-01&period_to=2026-09-30").json
    # 09-01..09-30: the applicant's 1 h step (09-01), the 10 h step (09-13 00:00), the early one (09-12 23:30:
    # 09-01 09:00 -> 09-12 23:30 = 11 days 14.5 h = 278.5 h) and the four treasury steps (09-28).
    assert [(b, n, avg, p90) for _, b, _, n, avg, p90 in _hours(body["step_times"])] == [
        ("unit_head_approve", 2, "144.25", "251.65"),  # (10 + 278.5) / 2; 10 + 0.9 * (278.5 - 10)
        ("treasury_pay", 4, "2.75", "5.3"),
        ("apply", 1, "1.0", "1.0"),
    ]


# --- filters and pages -------------------------------------------------------------------------------------

def test_filters_by_role_person_and_unit(fixture, as_user):
    duban = as_user("duban")
    by_role = duban.get("/api/v1/overdue?role=unit_head").json
    assert _ids(fixture, by_role["overdue"]["items"]) == ["t7", "t2", "t1", "t9"]
    assert [s["bpmn_id"] for s in by_role["step_times"]] == ["unit_head_approve"]
    # cz_reviewer: t4 assigned to them, t3 unclaimed with them a candidate; step times of what they completed
    by_person = duban.get("/api/v1/overdue?user=cz_reviewer").json
    assert _ids(fixture, by_person["overdue"]["items"]) == ["t4", "t3"]
    assert [(s["bpmn_id"], s["count"]) for s in by_person["step_times"]] == [("compliance_review", 2)]
    by_unit = duban.get("/api/v1/overdue?org=SFZ-NYB").json
    assert _ids(fixture, by_unit["overdue"]["items"]) == ["t4", "t1", "t8"]
    assert by_unit["summary"]["totals"] == {"overdue": 2, "due_soon": 1, "escalated": 1, "empty_approver": 0}
    nobody = duban.get("/api/v1/overdue?user=no_such_user").json
    assert (nobody["overdue"]["total"], nobody["summary"]["totals"]["overdue"]) == (0, 0)


def test_due_soon_hours_widens_the_window(fixture, as_user):
    body = as_user("duban").get("/api/v1/overdue?due_soon_hours=48").json
    # now + 48 h = 10-14 10:00: t10 (10-13 10:00) joins; t12 (10-14 17:30) does not
    assert _ids(fixture, body["overdue"]["items"])[-3:] == ["t8", "t9", "t10"]
    assert body["summary"]["totals"]["due_soon"] == 3


def test_the_overdue_list_is_paged_with_its_total(fixture, as_user):
    duban = as_user("duban")
    page2 = duban.get("/api/v1/overdue?per_page=4&page=2").json["overdue"]
    assert (page2["total"], _ids(fixture, page2["items"])) == (9, ["t3", "t2", "t1", "t8"])
    past_the_end = duban.get("/api/v1/overdue?per_page=4&page=4").json["overdue"]
    assert (past_the_end["total"], past_the_end["items"]) == (9, [])


# --- scope -------------------------------------------------------------------------------------------------

def test_a_unit_head_sees_only_their_unit(fixture, as_user):
    body = as_user("nyb_head").get("/api/v1/overdue").json
    assert _ids(fixture, body["overdue"]["items"]) == ["t4", "t1", "t8"]
    assert body["summary"]["totals"] == {"overdue": 2, "due_soon": 1, "escalated": 1, "empty_approver": 0}
    assert _counts(body["summary"]["by_township"], _code) == [("SFZ", 2, 1, 1, 0)]
    assert [(a["bucket"], a["count"]) for a in body["aging"]] == [("<1", 1), ("1-3", 0), ("3-7", 1), (">7", 0)]
    assert _ids(fixture, body["escalated"]["items"]) == ["t4"]
    assert body["empty_approver"] == {"items": [], "total": 0}
    # NYB's steps only: unit_head_approve (instance a), compliance_review (d), fund_plan (plan)
    assert [s["bpmn_id"] for s in body["step_times"]] == ["compliance_review", "finance_approve", "unit_head_approve"]


def test_a_unit_head_asking_for_another_unit_gets_404(fixture, as_user):
    response = as_user("nyb_head").get("/api/v1/overdue?org=SFZ-SWB")
    assert response.status_code == 404
    assert response.json["details"] == {"org": ["不在你督办的范围内"]}
    assert as_user("duban").get("/api/v1/overdue?org=NOPE").status_code == 404


def test_someone_from_qingshan_sees_nothing_of_shifan(fixture, as_user):
    body = as_user("qs_head").get("/api/v1/overdue").json
    assert body["overdue"] == {"items": [], "total": 0, "page": 1, "per_page": 50}
    assert body["summary"]["totals"] == {"overdue": 0, "due_soon": 0, "escalated": 0, "empty_approver": 0}
    assert body["summary"]["by_township"] == []
    assert [a["count"] for a in body["aging"]] == [0, 0, 0, 0]
    assert (body["escalated"]["total"], body["empty_approver"]["total"], body["step_times"]) == (0, 0, [])


def test_a_clerk_is_refused(fixture, as_user):
    for url in ("/api/v1/overdue", "/api/v1/overdue.xlsx"):
        response = as_user("nyb_clerk").get(url)
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"


def test_the_county_auditor_sees_both_townships_each_on_its_own_calendar(fixture, as_user):
    body = as_user("shenji").get("/api/v1/overdue").json
    q1 = next(t for t in body["overdue"]["items"] if t["id"] == fixture.tasks["q1"])
    # 青山镇 q1, due 09-30 17:30: 10-08, 10-10, 10-12 (10-09 is its local day off) -> 3 -> "1-3";
    # 示范镇's t4 with the same due time is 4 -> "3-7".
    assert (q1["township"]["code"], q1["unit"], q1["overdue_working_days"], q1["aging"]) == ("QSZ", None, 3, "1-3")
    assert [(a["bucket"], a["count"]) for a in body["aging"]] == [("<1", 1), ("1-3", 3), ("3-7", 2), (">7", 2)]
    assert _counts(body["summary"]["by_township"], _code) == [("SFZ", 7, 2, 2, 3), ("QSZ", 1, 0, 0, 0)]


# --- arguments ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ("due_soon_hours=0", "due_soon_hours"),
    ("due_soon_hours=abc", "due_soon_hours"),
    ("role=boss", "role"),
    ("per_page=1000", "per_page"),
    ("period_from=2026-10-12&period_to=2026-10-01", "period_to"),
    ("period_from=2024-01-01&period_to=2026-10-01", "period_from"),
    ("period_to=2026-13-01", "period_to"),
])
def test_bad_arguments_answer_400_with_the_field(fixture, as_user, query, field):
    response = as_user("duban").get(f"/api/v1/overdue?{query}")
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    assert list(response.json["details"]) == [field]


# --- the workbook ------------------------------------------------------------------------------------------

def _sheet(workbook, name) -> list[tuple]:
    return [tuple(row) for row in workbook[name].iter_rows(values_only=True)]


def test_the_workbook_carries_the_same_figures(fixture, as_user):
    response = as_user("duban").get("/api/v1/overdue.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=UTF-8''%E7%9D%A3%E5%8A%9E%E7%9C%8B%E6%9D%BF-20261012-1000.xlsx" in \
        response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["超时待办", "汇总", "账龄", "环节用时", "升级与无人办理"]

    tasks = _sheet(wb, "超时待办")
    assert tasks[0] == ("状态", "乡镇", "单位", "申请标题", "业务编号", "流程", "环节", "角色", "办理人", "候选人数",
                        "创建时间", "办理期限", "超时工作日", "账龄", "升级级别", "升级至", "无人可办")
    assert [(r[3], r[0], r[12], r[13]) for r in tasks[1:]] == [
        ("打印机硒鼓", "超时", 12, ">7"), ("会议室投影仪维修", "超时", 8, ">7"),
        ("低保入户核查差旅费", "超时", 7, "3-7"), ("防汛物资运输费", "超时", 4, "3-7"),
        ("办公用品采购", "超时", 2, "1-3"), ("敬老院取暖费", "超时", 1, "1-3"), ("农田灌溉维修款", "超时", 0, "<1"),
        ("农技推广宣传资料", "即将到期", None, None), ("公务用车保险", "即将到期", None, None)]
    # t4, with times in Beijing wall-clock time
    assert tasks[4] == ("超时", "示范镇", "农业农村办", "防汛物资运输费", "DB-004", "payment", "财政所合规审核",
                        "财政所审核", "蒋审核", 1, datetime(2026, 9, 14, 9, 0), datetime(2026, 9, 30, 17, 30), 4, "3-7",
                        1, "财政所所长", None)

    summary = _sheet(wb, "汇总")
    assert summary[0] == ("维度", "名称", "超时", "即将到期", "已升级", "无人可办")
    assert summary[1:3] == [("合计", "全部", 7, 2, 2, 3), ("乡镇", "示范镇", 7, 2, 2, 3)]
    assert [r for r in summary if r[0] == "单位"] == [
        ("单位", "农业农村办", 2, 1, 1, 0), ("单位", "镇政府办", 2, 1, 0, 0), ("单位", "社会事务办", 2, 0, 1, 0),
        ("单位", "卫生院", 1, 0, 0, 1), ("单位", "中心小学", 0, 0, 0, 1), ("单位", "（本级）", 0, 0, 0, 1)]
    assert [r[1:] for r in summary if r[0] == "角色"][:2] == [("单位负责人", 3, 1, 0, 2), ("财政所审核", 2, 0, 1, 0)]
    assert [r[1:] for r in summary if r[0] == "人员"][3] == ("（未认领/无人）", 1, 0, 0, 1)

    assert _sheet(wb, "账龄") == [("账龄", "说明", "超时任务数"), ("<1", "不足1个工作日", 1), ("1-3", "1-3个工作日", 2),
                                  ("3-7", "3-7个工作日", 2), (">7", "7个工作日以上", 2)]
    assert _sheet(wb, "环节用时") == [
        ("流程", "环节编号", "环节", "办结次数", "平均用时（小时）", "90分位用时（小时）"),
        ("payment", "compliance_review", "财政所合规审核", 2, 36, 45.6),
        ("fund_plan", "finance_approve", "财政所核定", 1, 5, 5),
        ("payment", "unit_head_approve", "单位负责人审批", 5, 4, 7.6),
        ("payment", "treasury_pay", "国库支付", 4, 2.75, 5.3)]
    flagged = _sheet(wb, "升级与无人办理")
    assert [(r[0], r[3]) for r in flagged[1:]] == [("已升级", "低保入户核查差旅费"), ("已升级", "防汛物资运输费"),
                                                   ("无人可办", "打印机硒鼓"), ("无人可办", "教室照明线路维修"),
                                                   ("无人可办", "镇本级应急备用金")]
    assert flagged[1][-1] == datetime(2026, 10, 8, 10, 0)  # t5 escalated at, Beijing time
    assert flagged[-1][16] == "无人可办，等待督办转办"


# --- the read side directly --------------------------------------------------------------------------------

def test_the_sql_buckets_agree_with_the_calendar_for_every_due_time(fixture, db_session):
    """The cutoffs turn working_days_between into comparisons on due_at; check them day by day."""
    township = db_session.scalar(select(Org.id).where(Org.code == "QSZ"))
    for calendar in (calendar_for(db_session, None), calendar_for(db_session, township)):
        cutoffs = B.bucket_cutoffs(calendar, NOW.astimezone(UTC))
        for back in range(0, 60 * 24, 7):  # every 7 hours back over 60 days
            due = NOW - timedelta(hours=back, minutes=1)
            by_cutoffs = B.BUCKETS[sum(due < c for c in cutoffs)]
            assert by_cutoffs == B.bucket_of(calendar.working_days_between(due, NOW)), due


def test_percentile_cont_interpolates_like_postgresql():
    assert B.percentile_cont([10, 1, 4, 2, 3], 0.9) == pytest.approx(7.6)
    assert B.percentile_cont([5], 0.9) == 5
    assert B.percentile_cont([1, 2], 0.5) == 1.5
    assert [B.bucket_of(d) for d in (0, 1, 3, 4, 7, 8, 30)] == ["<1", "1-3", "1-3", "3-7", "3-7", ">7", ">7"]


def test_each_section_is_one_statement(fixture, db_session):
    duban = db_session.scalar(select(User).where(User.username == "duban"))
    _ = [g.org for g in duban.grants]  # loaded with the user, as the API's load_user does
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db_session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        board = B.open_board(db_session, duban, B.BoardFilter(), NOW.astimezone(UTC))
        assert len(statements) == 2  # the orgs in scope, 示范镇's calendar
        counts = []
        for section in (B.overdue_tasks, B.summary, B.escalated_tasks, B.empty_approver_tasks, B.step_times):
            before = len(statements)
            section(board)
            counts.append(len(statements) - before)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts == [1, 1, 1, 1, 1]
