#!/usr/bin/env python
"""Benchmark: the deadline sweep and the supervisors' overdue query with 10,000 and with 100,000 open tasks.

Prints ONE JSON document on stdout (progress on stderr). Every figure comes from the same run, in one
process, GC enabled, timed with time.perf_counter_ns():

  sweep_ms_per_fired_timer  app.deadlines.sweep.sweep_once over K real 资金支付 requests waiting at
                            财政所合规审核 whose reminder and escalation are due: the sweep's elapsed time
                            (claim included) / requests fired. Measured at each size on K fresh requests.
  sweep_ratio               the 100,000 figure / the 10,000 figure. Target <= 1.5.
  overdue_query_ms          the 督办's board, overdue section (app.inbox.board open_board + overdue_tasks)
                            for 吕督办 (duban, supervisor of 示范镇): median of several runs at each size.
  sql_per_fired_timer       statements sent per fired request (before_cursor_execute).

The open tasks are the K real requests of each size plus synthetic rows added in bulk (COPY): running
process_instance rows with a dummy state and a timer in the future (the sweep must skip them by the
index), each with one ready human_task (roles, orgs, assignees and candidates as the demo township has
them, due from four weeks ago to four weeks ahead, some escalated, some flagged for an empty approver).

Run from the repository root:  .venv/bin/python scripts/bench/timers.py [--quick] [--database-url URL]
The database is WIPED (its name must contain "bench"), as for engine_step.py. See scripts/bench/README.md.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for _path in (str(REPO), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import engine_step as core  # noqa: E402 - same database rules, statement counter, machine checks
import payment_flow as flow  # noqa: E402 - same app wiring, the funded 农业农村办 indicator

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/township_bench_timers"
SIZES = (10_000, 100_000)
TARGETS = {"sweep_ratio_max": 1.5}
CHINA = timedelta(hours=8)
SEED = 20261013


_T0 = time.monotonic()


def log(msg: str) -> None:
    """Progress on stderr, stamped with seconds since the start (the wall clock is travelling)."""
    print(f"[bench timers +{time.monotonic() - _T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def beijing(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - CHINA


# The clock, as tests/integration/test_deadlines.py has it around 2026's National Day: a payment reaches
# the compliance review on Wednesday 09-30 09:00 (3 working days: due 10-10 17:30, the 调休 Saturday), its
# daily reminder runs from 10-01 09:00 and its escalation falls due after 5 working days, 10-13 17:30.
# The sweep runs at 10-13 18:00: for each request both timers fire (the missed reminders do not pile up),
# and afterwards its next timer is the reminder of 10-14, so the requests of an earlier size stay put.
CREATED_AT = beijing(9, 30, 9)
SWEEP_AT = beijing(10, 13, 18)
SUPERVISOR = "duban"

# --- the synthetic open tasks ----------------------------------------------------------------------------
#
# (process, task id, name, role, lane, weight): where requests wait in a township's working year.
WAITING_AT = [
    ("payment", "unit_head_review", "单位负责人审核", "unit_head", "单位负责人", 12),
    ("payment", "finance_review", "财政所合规审核", "finance_reviewer", "财政所审核", 14),
    ("payment", "deputy_approve", "分管领导审批", "deputy_head", "分管领导", 6),
    ("payment", "finance_deputy_approve", "分管财政领导审批", "finance_deputy", "分管财政领导", 3),
    ("payment", "township_head_approve", "镇长审批", "township_head", "镇长", 4),
    ("payment", "party_secretary_approve", "党委书记审批", "party_secretary", "党委书记", 2),
    ("payment", "collective_decision", "党委会集体决策", "party_committee", "党委会", 1),
    ("payment", "treasury_submit", "国库支付提交", "treasury", "国库支付", 5),
    ("payment", "apply", "填写支付申请", "clerk", "经办人", 2),  # sent back to the applicant
    ("expense_claim", "unit_head_review", "单位负责人审核", "unit_head", "单位负责人", 6),
    ("expense_claim", "finance_review", "财政所审核", "finance_reviewer", "财政所审核", 5),
    ("expense_claim", "township_head_approve", "镇长审批", "township_head", "镇长", 2),
    ("fund_plan", "unit_head_review", "单位负责人审核", "unit_head", "单位负责人", 3),
    ("fund_plan", "finance_review", "财政所核定", "finance_reviewer", "财政所审核", 3),
    ("project_entry", "unit_head_review", "单位负责人审核", "unit_head", "单位负责人", 3),
    ("project_entry", "finance_review", "财政所审核", "finance_reviewer", "财政所审核", 3),
    ("project_entry", "committee_study", "党委会研究", "party_committee", "党委会", 1),
    ("budget_adjustment", "unit_head_review", "单位负责人审核", "unit_head", "单位负责人", 1),
    ("budget_adjustment", "finance_review", "财政所审核", "finance_reviewer", "财政所审核", 1),
    ("budget_adjustment", "township_head_approve", "镇长审批", "township_head", "镇长", 1),
]
TITLES = {"payment": "资金支付", "expense_claim": "经费报销", "fund_plan": "用款计划", "project_entry": "项目入库",
          "budget_adjustment": "预算调剂"}
UNIT_ROLES = {"clerk", "unit_head"}
# The units requests come from, by weight: 示范镇's six and 青山镇's one (outside duban's scope).
UNITS = {"SFZ-NYB": 20, "SFZ-SWB": 16, "SFZ-ZFB": 14, "SFZ-ZXXX": 14, "SFZ-WSY": 14, "SFZ-CZS": 12, "QSZ-ZFB": 10}
LADDER = {"clerk": "unit_head", "unit_head": "deputy_head", "finance_reviewer": "finance_head",
          "finance_head": "finance_deputy", "treasury": "finance_head", "deputy_head": "township_head",
          "finance_deputy": "township_head", "township_head": "party_secretary"}
INSTANCE_COLUMNS = ("id", "definition_id", "called_definition_ids", "process_id", "org_id", "initiator_id",
                    "status", "business_key", "title", "amount", "created_at", "updated_at", "state", "event_seq",
                    "lock_version", "next_timer_at")
TASK_COLUMNS = ("id", "instance_id", "kind", "spiff_task_id", "bpmn_process_id", "bpmn_id", "name", "role", "lane",
                "scope_org_id", "assignee_id", "state", "created_at", "due_at", "claimed_at", "fallback",
                "remind_count", "reminded_at", "escalation_level", "escalated_at", "escalated_to_role")
DUMMY_STATE = '{"synthetic": "bench row: never loaded, its timer is in the future"}'


class Population:
    """Makes synthetic running requests with one ready task each, written with COPY in batches."""

    def __init__(self, session, now: datetime):
        from sqlalchemy import select

        from app.models import Org, ProcessDefinition, RoleGrant

        self.now, self.rng, self.serial = now, random.Random(SEED), 0
        orgs = session.execute(select(Org.id, Org.code, Org.parent_id))
        self.orgs = {code: (oid, parent) for oid, code, parent in orgs}
        self.definitions = dict(session.execute(select(ProcessDefinition.process_id, ProcessDefinition.id)).all())
        self.holders: dict[tuple[str, int], list[int]] = {}
        for user_id, role, org_id in session.execute(select(RoleGrant.user_id, RoleGrant.role, RoleGrant.org_id)):
            self.holders.setdefault((role, org_id), []).append(user_id)
        self.unit_codes = list(UNITS)
        self.unit_weights = list(UNITS.values())
        self.waits = WAITING_AT
        self.wait_weights = [w[-1] for w in WAITING_AT]

    def rows(self, n: int, instance_ids: list[int], task_ids: list[int]):
        """n (instance, task, candidates) rows."""
        rng, now = self.rng, self.now
        instances, tasks, candidates = [], [], []
        for i in range(n):
            self.serial += 1
            unit = rng.choices(self.unit_codes, self.unit_weights)[0]
            unit_id, township_id = self.orgs[unit]
            process, bpmn_id, name, role, lane, _ = rng.choices(self.waits, self.wait_weights)[0]
            scope = unit_id if role in UNIT_ROLES else township_id
            holders = self.holders.get((role, scope), [])
            fallback = None
            if not holders:  # 青山镇 has no leaders of its own on the demo: nobody to act (empty approver)
                scope, fallback = None, "none"
            elif unit != "QSZ-ZFB" and rng.random() < 0.01:  # a vacancy covered by the township's admin
                holders, fallback = self.holders[("admin", township_id)], "admin"
            assignee = claimed_at = None
            if len(holders) == 1:
                assignee = holders[0]
            elif holders and rng.random() < 0.3:
                assignee = rng.choice(holders)
            # Due 17:30 Beijing, from 4 weeks ago to 4 weeks ahead; a few steps carry no deadline.
            due = None if rng.random() < 0.03 else \
                datetime(2026, 10, 13, 9, 30, tzinfo=UTC) + timedelta(days=rng.randint(-28, 28))
            opened = (due or now) - timedelta(days=rng.randint(2, 6), minutes=rng.randint(0, 600))
            if assignee is not None and len(holders) > 1:
                claimed_at = opened + timedelta(hours=rng.randint(1, 30))
            overdue_days = (now - due).days if due is not None and due < now else 0
            level = 0
            if overdue_days >= 3 and rng.random() < 0.6:
                level = 2 if overdue_days >= 10 and rng.random() < 0.3 else 1
            to_role = role
            for _ in range(level):
                to_role = LADDER.get(to_role, to_role)
            reminded = min(overdue_days, 20) if due is not None else 0
            instance_id, task_id = instance_ids[i], task_ids[i]
            # The next timer: tomorrow's reminder for an overdue task, else its deadline; some wait for none.
            next_timer = None if due is None else \
                now + timedelta(hours=rng.randint(1, 24 * 28), minutes=rng.randint(0, 59))
            instances.append((
                instance_id, self.definitions[process], "[]", process, unit_id,
                self.holders[("clerk", unit_id)][0],
                "running", f"SYN-{process.upper()}-{self.serial:07d}", f"{TITLES[process]}（基准第{self.serial}号）",
                Decimal(rng.randint(100, 80_000)), opened - timedelta(days=rng.randint(0, 5)), opened, DUMMY_STATE, 4,
                3, next_timer))
            tasks.append((
                task_id, instance_id, "step", str(uuid.uuid4()), process, bpmn_id, name, role, lane, scope, assignee,
                "ready", opened, due, claimed_at, fallback, reminded,
                (now - timedelta(hours=rng.randint(1, 20))) if reminded else None, level,
                min(due + timedelta(days=3), now - timedelta(hours=1)) if level else None, to_role if level else None))
            candidates.extend((task_id, user_id) for user_id in holders)
        return instances, tasks, candidates


def allocate(conn, sequence: str, n: int) -> list[int]:
    return [row[0] for row in conn.exec_driver_sql(
        f"SELECT nextval('{sequence}') FROM generate_series(1, {int(n)})").all()]


def copy_rows(raw, table: str, columns: tuple[str, ...], rows) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def pad_to(engine, population: Population, target: int, batch: int = 20_000) -> dict:
    """Add synthetic requests until `target` human tasks are ready; then VACUUM ANALYZE (as autovacuum would)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        ready = conn.scalar(text("SELECT count(*) FROM human_task WHERE state = 'ready'"))
    need = target - ready
    if need < 0:
        raise SystemExit(f"{ready} open tasks already, more than the size {target}")
    t0 = core.now_ns()
    added = 0
    while added < need:
        n = min(batch, need - added)
        with engine.connect() as conn:
            instance_ids = allocate(conn, "process_instance_id_seq", n)
            task_ids = allocate(conn, "human_task_id_seq", n)
            conn.commit()
        instances, tasks, candidates = population.rows(n, instance_ids, task_ids)
        raw = engine.raw_connection()
        try:
            copy_rows(raw, "process_instance", INSTANCE_COLUMNS, instances)
            copy_rows(raw, "human_task", TASK_COLUMNS, tasks)
            copy_rows(raw, "task_candidate", ("task_id", "user_id"), candidates)
            raw.commit()
        finally:
            raw.close()
        added += n
        log(f"padding: {ready + added}/{target} open tasks")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) process_instance, human_task, task_candidate")
    with engine.connect() as conn:
        counts = conn.execute(text(
            "SELECT (SELECT count(*) FROM human_task WHERE state = 'ready'),"
            " (SELECT count(*) FROM process_instance WHERE status = 'running'),"
            " (SELECT count(*) FROM process_instance WHERE next_timer_at IS NOT NULL),"
            " (SELECT count(*) FROM process_instance WHERE business_key LIKE 'SYN-%')")).one()
    return {"open_tasks": counts[0], "running_instances": counts[1], "instances_with_timer": counts[2],
            "synthetic_instances": counts[3], "added": added, "padding_s": round((core.now_ns() - t0) / 1e9, 1)}


# --- the real requests ---------------------------------------------------------------------------------

def open_payments(office: "flow.Office", indicator: str, label: str, k: int) -> list[int]:
    """k payments of 农业农村办, each submitted and approved by its unit head: waiting at 财政所合规审核."""
    ids = []
    for n in range(k):
        iid = office.start("nyb_clerk", "payment", {**flow.PAYMENT, "indicator_code": indicator,
                                                    "amount": Decimal("100.00"), "contract_no": f"TIMER-{label}-{n}"})
        office.act("nyb_head", iid)
        ids.append(iid)
        if (n + 1) % 50 == 0:
            log(f"requests {label}: {n + 1}/{k} at the compliance review")
    office.db.session.remove()
    return ids


class DeferredJobs:
    """The jobs queue during a timed sweep: jobs are noted, as a hand-over to rq workers would be, and run
    after the measurement (the outbox delivering the reminders is the workers' time, not the sweep's)."""

    def __init__(self):
        self.jobs: list[tuple[str, tuple]] = []

    def enqueue(self, path: str, *args) -> None:
        self.jobs.append((path, args))


def timed_sweep(app, counter: core.SqlCounter, ids: list[int], now: datetime, profile: cProfile.Profile | None = None):
    """sweep_once over exactly `ids` (asserted): elapsed, per-fire times and statements."""
    import app.deadlines.sweep as sweep_module
    from app.extensions import db
    from app.jobs import EXTENSION, resolve
    from app.runtime import deps

    original = sweep_module.fire
    per_fire, per_fire_sql, fired_ids = [], [], []

    def fire(d, instance_id):
        fired_ids.append(instance_id)
        n0, t0 = len(counter.statements), core.now_ns()
        ok = original(d, instance_id)
        per_fire.append(core.now_ns() - t0)
        per_fire_sql.append(len(counter.statements) - n0)
        return ok

    jobs, previous_jobs = DeferredJobs(), app.extensions.get(EXTENSION)
    app.extensions[EXTENSION] = jobs
    sweep_module.fire = fire
    db.session.remove()
    try:
        counter.start()
        if profile is not None:
            profile.enable()
        t0 = core.now_ns()
        result = sweep_module.sweep_once(deps, now)
        elapsed = core.now_ns() - t0
        if profile is not None:
            profile.disable()
        statements = counter.stop()
    finally:
        sweep_module.fire = original
        app.extensions[EXTENSION] = previous_jobs
    db.session.remove()
    for path, args in jobs.jobs:  # deliver what the reminders queued, untimed
        resolve(path)(*args)
    db.session.remove()
    if result.failed or result.fired != len(ids) or sorted(fired_ids) != sorted(ids):
        raise SystemExit(f"the sweep claimed {result.claimed}, fired {result.fired} of the {len(ids)} requests "
                         f"(failed {result.failed[:5]})")
    return result, elapsed, per_fire, per_fire_sql, statements, len(jobs.jobs)


def check_fired(session, ids: list[int]) -> dict:
    """Every request escalated once, reminded once, and its next timer tomorrow: what the sweep did."""
    from sqlalchemy import func, select

    from app.models import EventType, HumanTask, InstanceEvent, ProcessInstance, TaskState

    escalated = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id.in_(ids), HumanTask.bpmn_id == "finance_review", HumanTask.state == TaskState.READY,
        HumanTask.escalation_level == 1))
    reminded = session.scalar(select(func.count()).select_from(HumanTask).where(
        HumanTask.instance_id.in_(ids), HumanTask.bpmn_id == "finance_review", HumanTask.remind_count == 1))
    timer_events = session.scalar(select(func.count()).select_from(InstanceEvent).where(
        InstanceEvent.instance_id.in_(ids), InstanceEvent.type == EventType.TIMER_FIRED))
    next_at = session.scalar(select(func.min(ProcessInstance.next_timer_at)).where(ProcessInstance.id.in_(ids)))
    session.commit()
    if escalated != len(ids) or reminded != len(ids):
        raise SystemExit(f"after the sweep: {escalated} escalated, {reminded} reminded, of {len(ids)}")
    return {"timer_events": timer_events, "next_timer_at_min": next_at.isoformat() if next_at else None}


# --- the board ---------------------------------------------------------------------------------------------

def board_runs(office: "flow.Office", counter: core.SqlCounter, now: datetime, runs: int, warmup: int) -> dict:
    """duban's overdue section as a request makes it: user loaded (not timed), then open_board + overdue_tasks."""
    from app.inbox.board import BoardFilter, is_overseer, open_board, overdue_tasks, summary

    times, summary_times, statements = [], [], []
    page = None
    for r in range(warmup + runs):
        user = office.user(SUPERVISOR)
        assert is_overseer(user) and all(g.org.path for g in user.grants)  # what the endpoint's check loads
        counter.start()
        t0 = core.now_ns()
        board = open_board(office.db.session, user, BoardFilter(), now)
        page = overdue_tasks(board)
        t1 = core.now_ns()
        statements = counter.stop()
        summary(board)
        t2 = core.now_ns()
        if r >= warmup:
            times.append(t1 - t0)
            summary_times.append(t2 - t1)
    office.db.session.commit()  # a read-only request ends with COMMIT (see engine_step.py's notes)
    office.db.session.remove()
    overdue = sum(1 for t in page.items if t.overdue)
    return {"median_ms": core.ms(statistics.median(times)), "min_ms": core.ms(min(times)), "runs": runs,
            "page_rows": len(page.items), "page_overdue_rows": overdue, "total_in_scope": page.total,
            "statements": len(statements), "summary_median_ms": core.ms(statistics.median(summary_times))}


def explain(engine, now: datetime) -> dict:
    """Plans (EXPLAIN ANALYZE, rolled back) of the claim's selection and of duban's overdue page."""
    from sqlalchemy import or_, select
    from sqlalchemy.dialects import postgresql

    from app.models import InstanceStatus, ProcessInstance

    claim = (select(ProcessInstance.id).where(
        ProcessInstance.status == InstanceStatus.RUNNING, ProcessInstance.next_timer_at <= now,
        or_(ProcessInstance.timer_claimed_until.is_(None), ProcessInstance.timer_claimed_until < now))
        .order_by(ProcessInstance.next_timer_at).limit(500).with_for_update(skip_locked=True))
    sql = str(claim.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = [r[0] for r in conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql)]
        conn.rollback()
    return {"claim_selection": plan}


def explain_board(office: "flow.Office", now: datetime) -> list[str]:
    from sqlalchemy import event

    from app.inbox.board import BoardFilter, open_board, overdue_tasks

    seen = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    user = office.user(SUPERVISOR)
    engine = office.db.engine
    event.listen(engine, "before_cursor_execute", grab)
    try:
        overdue_tasks(open_board(office.db.session, user, BoardFilter(), now))
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    statement, parameters = seen[-1]
    session = office.db.session
    plan = [r[0] for r in session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]
    session.rollback()
    office.db.session.remove()
    return plan


# --- main ----------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: a few requests per size")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
                    help=f"PostgreSQL database to WIPE and use (default {DEFAULT_DATABASE_URL})")
    ap.add_argument("--i-know-this-wipes-the-database", dest="force", action="store_true",
                    help="allow a database whose name does not contain 'bench'")
    ap.add_argument("-k", "--requests", type=int, help="real requests fired per size (default 300, --quick 6)")
    ap.add_argument("--fail-on-miss", action="store_true", help="exit 1 when the sweep ratio misses its target")
    ap.add_argument("--explain", action="store_true", help="add EXPLAIN ANALYZE of the claim and the overdue page")
    ap.add_argument("--profile", metavar="FILE.prof",
                    help="cProfile the sweep at the largest size into FILE (the figures then include its overhead)")
    args = ap.parse_args(argv)
    import time_machine

    quick = args.quick
    k = args.requests or (6 if quick else 300)
    warm_k = 2 if quick else 10
    runs, warmup = (3, 1) if quick else (15, 3)
    pure_runs = 4 if quick else 30
    t_start, loadavg_start = core.now_ns(), os.getloadavg()
    busy_before = core.cpu_busy_now()
    watch = core.OthersWatch()

    url = core.sqlalchemy_url(args.database_url)
    core.prepare_database(url, args.force)
    app = flow.build_app(url)
    pure = core.PureBench(core.chain_bpmn())
    per_size: dict[str, dict] = {}
    with app.app_context(), time_machine.travel(CREATED_AT, tick=True) as clock:
        log("migrating, seeding 示范镇, funding 农业农村办")
        core.migrate(app)
        from sqlalchemy import text

        from app.extensions import db

        counter, office, indicator = flow.set_up_office(app)
        machine = core.machine_info(lambda sql: db.session.scalar(text(sql)), loadavg_start)
        machine["time_machine"] = metadata.version("time-machine")
        population = Population(db.session, SWEEP_AT)
        db.session.remove()

        log(f"warm-up: {warm_k} requests swept (not timed)")
        warm = open_payments(office, indicator, "warm", warm_k)
        clock.move_to(SWEEP_AT)
        timed_sweep(app, counter, warm, SWEEP_AT)
        board_runs(office, counter, SWEEP_AT, 1, 1)

        profile = None
        for size in SIZES:
            label = str(size)
            clock.move_to(CREATED_AT)
            log(f"size {size}: {k} requests to the compliance review")
            ids = open_payments(office, indicator, label, k)
            sizes = pad_to(db.engine, population, size)
            log(f"size {size}: {sizes['open_tasks']} open tasks, {sizes['running_instances']} running requests")
            clock.move_to(SWEEP_AT)
            plans = explain(db.engine, SWEEP_AT) if args.explain else None
            watch.start()
            pure.block(pure_runs, 2)  # the machine's speed right before this size's sweep
            if args.profile and size == SIZES[-1]:
                profile = cProfile.Profile()
            log(f"size {size}: sweeping {k} requests")
            result, elapsed, per_fire, per_fire_sql, statements, jobs = timed_sweep(
                app, counter, ids, SWEEP_AT, profile)
            log(f"size {size}: the overdue query, {warmup} + {runs} runs")
            board = board_runs(office, counter, SWEEP_AT, runs, warmup)
            watch.stop()
            fired = check_fired(db.session, ids)
            db.session.remove()
            if args.explain:
                plans["overdue_page"] = explain_board(office, SWEEP_AT)
            claim_sql = len(statements) - sum(per_fire_sql)
            per_size[label] = {
                **sizes,
                "sweep": {
                    "claimed": result.claimed, "fired": result.fired, "failed": len(result.failed),
                    "elapsed_ms": core.ms(elapsed), "ms_per_fired_timer": core.ms(elapsed / result.fired),
                    "fire_median_ms": core.ms(statistics.median(per_fire)),
                    "fire_p95_ms": core.pct([core.ms(x) for x in per_fire], 0.95),
                    "claim_and_rest_ms": core.ms(elapsed - sum(per_fire)),
                    "engine_timers_fired": fired["timer_events"],
                    "ms_per_engine_timer": core.ms(elapsed / max(fired["timer_events"], 1)),
                    "next_timer_at_after": fired["next_timer_at_min"],
                    "sql_total": len(statements), "sql_claim": claim_sql,
                    "sql_per_fire": {"median": statistics.median(per_fire_sql), "max": max(per_fire_sql),
                                     "min": min(per_fire_sql)},
                    "jobs_queued": jobs,
                    "sql_sample_fire": _sample(statements, per_fire_sql, claim_sql),
                },
                "overdue": board,
                "reference_pure_step_ms": pure.blocks[-1],
            }
            if plans:
                per_size[label]["plans"] = plans
        db.session.remove()
        db.engine.dispose()

    if profile is not None:
        profile.dump_stats(args.profile)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        log(f"profile of the {SIZES[-1]} sweep written to {args.profile}:\n{out.getvalue()}")

    small, large = (str(s) for s in SIZES)
    sweep_ms = {s: per_size[s]["sweep"]["ms_per_fired_timer"] for s in (small, large)}
    overdue_ms = {s: per_size[s]["overdue"]["median_ms"] for s in (small, large)}
    sweep_ratio = round(sweep_ms[large] / sweep_ms[small], 3)
    fire_medians = [per_size[s]["sweep"]["fire_median_ms"] for s in (small, large)]
    fire_median_ratio = round(fire_medians[1] / fire_medians[0], 3)
    others = watch.share()
    machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    machine["cpu_busy_pct_before_start"] = busy_before
    machine["others_cpu_per_wall_second"] = others
    if busy_before is not None and others is not None:
        machine["quiet"] = busy_before < core.QUIET_BUSY_PCT and others < core.QUIET_OTHERS
    else:
        machine["quiet"] = machine["loadavg_start"][0] < core.QUIET_LOAD
    if not machine["quiet"]:
        log(f"WARNING: something else was using the CPUs (busy {busy_before} % before start, others "
                 f"{others} CPU-s per s during the run, load {machine['loadavg_start']}); figures may be inflated")
    result = {
        "benchmark": "timers",
        "quick": quick,
        "k": k,
        "sizes": list(SIZES),
        "sweep_ms_per_fired_timer": sweep_ms,
        "sweep_ratio": sweep_ratio,
        "sweep_fire_median_ms": {s: per_size[s]["sweep"]["fire_median_ms"] for s in (small, large)},
        "sweep_fire_median_ratio": fire_median_ratio,
        "overdue_query_ms": overdue_ms,
        "overdue_ratio": round(overdue_ms[large] / overdue_ms[small], 3),
        "overdue_in_scope": {s: per_size[s]["overdue"]["total_in_scope"] for s in (small, large)},
        "sql_per_fired_timer": {s: per_size[s]["sweep"]["sql_per_fire"] for s in (small, large)},
        "sql_per_claim": {s: per_size[s]["sweep"]["sql_claim"] for s in (small, large)},
        "sql_per_overdue_query": {s: per_size[s]["overdue"]["statements"] for s in (small, large)},
        "targets": {"sweep_ratio_max": TARGETS["sweep_ratio_max"],
                    "sweep_ratio_ok": sweep_ratio <= TARGETS["sweep_ratio_max"]},
        "details": {
            "sizes": per_size,
            "clock": {"requests_reach_review_at": CREATED_AT.isoformat(), "swept_at": SWEEP_AT.isoformat(),
                      "board_now": SWEEP_AT.isoformat()},
            "reference_pure_step_ms": {s: per_size[s]["reference_pure_step_ms"] for s in (small, large)},
            "config": {"k": k, "warmup_requests": warm_k, "overdue_runs": runs, "overdue_warmup_runs": warmup,
                       "supervisor": SUPERVISOR, "seed": SEED, "database": url.rsplit("@", 1)[-1],
                       "profiled": bool(args.profile)},
        },
        "machine": machine,
        "wall_seconds": round((core.now_ns() - t_start) / 1e9, 1),
    }
    result["targets"]["all_ok"] = result["targets"]["sweep_ratio_ok"]
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 1 if args.fail_on_miss and not result["targets"]["all_ok"] else 0


def _sample(statements: list[str], per_fire_sql: list[int], claim_sql: int) -> list[str]:
    """The statements of one fire in the middle of the sweep, first 120 characters each."""
    if not per_fire_sql:
        return []
    middle = len(per_fire_sql) // 2
    start = claim_sql + sum(per_fire_sql[:middle])
    return [" ".join(s.split())[:120] for s in statements[start:start + per_fire_sql[middle]]]


if __name__ == "__main__":
    sys.exit(main())
