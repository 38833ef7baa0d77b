#!/usr/bin/env python
"""Benchmark: what one approval step costs, from the pure engine to a committed step on PostgreSQL.

Prints ONE JSON document on stdout (progress goes to stderr). All figures come from the same run, in
one process, GC enabled, timed with time.perf_counter_ns():

  pure_step_ms          SpiffWorkflow alone (standard BpmnWorkflowSerializer + SPIFF_CONFIG, spec
                        embedded in the JSON): deserialize, find the READY user task, set data, run,
                        do_engine_steps, serialize. The "about 1 ms" reference (spiffworkflow.md §6).
  engine_wall_step_ms   The same cycle through app.engine (Engine.load on a cached SpecBundle,
                        Run.complete, Run.dumps), no database.
  persisted_step_ms     app.approvals.tasks.complete_task on PostgreSQL, commit included, plus the next
                        approver's inbox read (app.inbox.queries.todo).
  sql_per_completion    statements sent per complete_task (before_cursor_execute), with a sample.
  loop                  one instance whose approval step loops back to itself, completed N times.

Run from the repository root:  .venv/bin/python scripts/bench/engine_step.py [--quick] [--database-url URL]
See scripts/bench/README.md for what each figure means.
"""
import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/township_bench"
now_ns = time.perf_counter_ns

TARGETS = {"ratio_max": 3.0, "sql_per_completion_max": 12, "loop_ratio_max": 1.3}
# Another process competing for the CPUs: busy before the start, CPU used during the run by anything but
# this process and PostgreSQL, or (without /proc) the 1-minute load average at the start.
QUIET_BUSY_PCT, QUIET_OTHERS, QUIET_LOAD = 15.0, 0.15, 0.5

# --- the processes ---------------------------------------------------------------------------------

CHAIN_ID = "bench_chain6"
LOOP_ID = "bench_loop"
# (task id, name, lane = role name, username acting on it in the seeded demo org)
CHAIN_STEPS = [
    ("apply", "填写申请", "经办人", "nyb_clerk"),
    ("unit_head_review", "单位负责人审核", "单位负责人", "nyb_head"),
    ("finance_review", "财政所审核", "财政所审核", "cz_reviewer"),  # two candidates, nobody assigned
    ("finance_head_approve", "财政所所长审批", "财政所所长", "cz_head"),
    ("finance_deputy_approve", "分管财政领导审批", "分管财政领导", "finance_deputy"),
    ("township_head_approve", "镇长审批", "镇长", "zhenzhang"),
]
APPLICANT = CHAIN_STEPS[0][3]
LOOP_APPROVER = "zhenzhang"
LOOP_LIMIT = 1_000_000  # the counter never reaches it: every measured pass loops back

APPLICATION = {"title": "购买农技推广宣传资料", "amount": Decimal("1280.00"),
               "description": "春耕农技推广宣传册印制，附报价单。"}
COMMENT = "同意，按预算执行"
INITIAL = {"initiator": APPLICANT, "org": "SFZ-NYB"}

APPLY_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema", "title": "申请", "type": "object",
    "required": ["title", "amount"],
    "properties": {
        "title": {"type": "string", "title": "事由", "minLength": 2, "maxLength": 100},
        "amount": {"type": "number", "title": "金额（元）", "format": "money", "exclusiveMinimum": 0},
        "description": {"type": "string", "title": "说明", "maxLength": 2000},
    },
}


def empty_form(title: str) -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
            "properties": {}}


def _definitions(process_id: str, name: str, lanes: dict[str, list[str]], body: list[str]) -> str:
    lane_xml = "".join(
        f'<bpmn:lane id="lane_{i}" name="{escape(lane)}">'
        + "".join(f"<bpmn:flowNodeRef>{ref}</bpmn:flowNodeRef>" for ref in refs) + "</bpmn:lane>"
        for i, (lane, refs) in enumerate(lanes.items())
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        f'id="Definitions_{process_id}" targetNamespace="http://township-budget.example/bpmn">\n'
        f'<bpmn:process id="{process_id}" name="{escape(name)}" isExecutable="true">\n'
        f'<bpmn:laneSet id="LaneSet_{process_id}">{lane_xml}</bpmn:laneSet>\n'
        + "\n".join(body) + "\n</bpmn:process>\n</bpmn:definitions>\n"
    )


def chain_bpmn() -> str:
    """start -> 6 user tasks in 6 lanes -> end: the applicant's step and five approvals."""
    lanes: dict[str, list[str]] = {}
    body = ['<bpmn:startEvent id="start" name="发起"/>']
    lanes.setdefault(CHAIN_STEPS[0][2], []).append("start")
    prev = "start"
    for task_id, name, lane, _ in CHAIN_STEPS:
        body.append(f'<bpmn:userTask id="{task_id}" name="{escape(name)}"/>')
        body.append(f'<bpmn:sequenceFlow id="f_{prev}_{task_id}" sourceRef="{prev}" targetRef="{task_id}"/>')
        lanes.setdefault(lane, []).append(task_id)
        prev = task_id
    body.append('<bpmn:endEvent id="end" name="通过"/>')
    body.append(f'<bpmn:sequenceFlow id="f_{prev}_end" sourceRef="{prev}" targetRef="end"/>')
    lanes[CHAIN_STEPS[-1][2]].append("end")
    return _definitions(CHAIN_ID, "基准：六步顺序审批", lanes, body)


def loop_bpmn() -> str:
    """start -> apply -> n = 0 -> review -> n = n + 1 -> gateway: back to review while n < limit."""
    body = [
        '<bpmn:startEvent id="start"/>',
        '<bpmn:userTask id="apply" name="填写申请"/>',
        '<bpmn:scriptTask id="init"><bpmn:script>n = 0</bpmn:script></bpmn:scriptTask>',
        '<bpmn:userTask id="review" name="镇长反复审阅"/>',
        '<bpmn:scriptTask id="bump"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>',
        '<bpmn:exclusiveGateway id="gw" default="f_done"/>',
        '<bpmn:endEvent id="end"/>',
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply"/>',
        '<bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="init"/>',
        '<bpmn:sequenceFlow id="f3" sourceRef="init" targetRef="review"/>',
        '<bpmn:sequenceFlow id="f4" sourceRef="review" targetRef="bump"/>',
        '<bpmn:sequenceFlow id="f5" sourceRef="bump" targetRef="gw"/>',
        f'<bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="review">'
        f'<bpmn:conditionExpression>n &lt; {LOOP_LIMIT}</bpmn:conditionExpression></bpmn:sequenceFlow>',
        '<bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="end"/>',
    ]
    lanes = {"经办人": ["start", "apply", "init"], "镇长": ["review", "bump", "gw", "end"]}
    return _definitions(LOOP_ID, "基准：循环审阅", lanes, body)


def write_process_dir(root: Path) -> tuple[Path, Path]:
    """bpmn/<id>.bpmn and forms/<id>/<task>.json for both processes, under `root`."""
    bpmn_dir, forms_dir = root / "bpmn", root / "forms"
    bpmn_dir.mkdir(parents=True)
    (bpmn_dir / f"{CHAIN_ID}.bpmn").write_text(chain_bpmn(), encoding="utf-8")
    (bpmn_dir / f"{LOOP_ID}.bpmn").write_text(loop_bpmn(), encoding="utf-8")
    forms = {CHAIN_ID: {t: (APPLY_FORM if t == "apply" else empty_form(n)) for t, n, _, _ in CHAIN_STEPS},
             LOOP_ID: {"apply": APPLY_FORM, "review": empty_form("审阅")}}
    for process_id, by_task in forms.items():
        (forms_dir / process_id).mkdir(parents=True)
        for task_id, form in by_task.items():
            (forms_dir / process_id / f"{task_id}.json").write_text(json.dumps(form, ensure_ascii=False),
                                                                    encoding="utf-8")
    return bpmn_dir, forms_dir


# --- statistics --------------------------------------------------------------------------------------

def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ms(ns: float) -> float:
    return round(ns / 1e6, 4)


def pct(values, p: float) -> float:
    s = sorted(values)
    return s[max(0, math.ceil(p * len(s)) - 1)]


def summary(values_ns: list[int]) -> dict:
    return {"median_ms": ms(statistics.median(values_ns)), "p95_ms": ms(pct(values_ns, 0.95)),
            "min_ms": ms(min(values_ns)), "n": len(values_ns)}


def step_payload(index: int) -> dict:
    """What the app puts into task data at step `index` (0 = the applicant's submit)."""
    if index == 0:
        return {**APPLICATION, "decision": "submit", "comment": None}
    return {"decision": "approve", "comment": COMMENT}


# --- 1. pure SpiffWorkflow, and 1b. the same through app.engine (no database) ---------------------------
#
# Both run in two blocks, one before the database part and one after it, so a machine that speeds up or
# slows down during the run shows up as two different block medians instead of skewing the ratio.

class NoDbBench:
    """Accumulates per-step samples over blocks; `result()` summarises all of them."""

    def __init__(self):
        self.blocks: list[float] = []
        self.per_step: list[list[int]] = [[] for _ in CHAIN_STEPS]
        self.extra: dict[str, list[int]] = {}
        self.sizes: list[int] = []

    def block(self, runs: int, warmup: int) -> None:
        seen = [len(xs) for xs in self.per_step]
        for r in range(warmup + runs):
            self.one_chain(measure=r >= warmup, record_sizes=not self.sizes and r == warmup)
        fresh = [x for xs, n in zip(self.per_step, seen, strict=True) for x in xs[n:]]
        self.blocks.append(ms(statistics.median(fresh)))

    def one_chain(self, measure: bool, record_sizes: bool) -> None:
        raise NotImplementedError

    def result(self) -> dict:
        flat = [x for xs in self.per_step for x in xs]
        out = {
            "all_steps": summary(flat),
            "approval_steps_2_to_6": summary([x for xs in self.per_step[1:] for x in xs]),
            "block_medians_ms": self.blocks,
            "per_step_median_ms": [ms(statistics.median(xs)) for xs in self.per_step],
            "state_bytes_before_each_step": self.sizes,
        }
        out.update({k: summary(v) for k, v in self.extra.items()})
        return out


class PureBench(NoDbBench):
    """SpiffWorkflow only: the standard serializer with SPIFF_CONFIG, spec embedded in every save."""

    def __init__(self, xml: str):
        super().__init__()
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

        registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
        self.serializer = BpmnWorkflowSerializer(registry)
        parser = SpiffBpmnParser()
        parser.add_bpmn_str(xml.encode("utf-8"), filename=f"{CHAIN_ID}.bpmn")
        self.spec, self.subprocess_specs = parser.get_spec(CHAIN_ID), parser.get_subprocess_specs(CHAIN_ID)

    def one_chain(self, measure: bool, record_sizes: bool) -> None:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        serializer = self.serializer
        wf = BpmnWorkflow(self.spec, self.subprocess_specs)
        for task in wf.get_tasks(state=TaskState.READY):
            task.data.update(INITIAL)
        wf.do_engine_steps()
        blob = serializer.serialize_json(wf)
        for i in range(len(CHAIN_STEPS)):
            if record_sizes:
                self.sizes.append(len(blob.encode("utf-8")))
            t0 = now_ns()
            wf = serializer.deserialize_json(blob)
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(step_payload(i))
            task.run()
            wf.do_engine_steps()
            blob = serializer.serialize_json(wf)
            t1 = now_ns()
            if measure:
                self.per_step[i].append(t1 - t0)
        assert wf.completed, "pure chain did not complete"


class EngineBench(NoDbBench):
    """app.engine: Engine.load on a cached SpecBundle, find the task, Run.complete, Run.dumps.

    `with_use_case_reads` repeats the chain adding the reads complete_task/save_step also make
    (task_properties, ready_tasks or outcome): the engine's whole share of one completion.
    """

    def __init__(self, xml: str):
        super().__init__()
        from app.engine import BpmnSource, Engine, parse_bundle
        from app.processes.operators import OperatorRegistry, default_operators

        self.bundle = parse_bundle(BpmnSource(f"{CHAIN_ID}.bpmn", xml.encode("utf-8")))  # the cached bundle
        self.engine = Engine(OperatorRegistry(default_operators()))
        self.extra["with_use_case_reads"] = []

    def one_chain(self, measure: bool, record_sizes: bool) -> None:
        engine, bundle = self.engine, self.bundle
        for use_case in (False, True):
            run = engine.start(bundle, instance_key="1", data=dict(INITIAL))
            state = run.dumps()
            for i in range(len(CHAIN_STEPS)):
                if record_sizes and not use_case:
                    self.sizes.append(len(state.encode("utf-8")))
                t0 = now_ns()
                run = engine.load(bundle, state, instance_key="1")
                spiff_id = next(iter(run.ready_task_ids()))
                if use_case:
                    run.task_properties(spiff_id)
                run.complete(spiff_id, step_payload(i))
                if use_case:
                    run.outcome() if run.finished else run.ready_tasks()
                state = run.dumps()
                t1 = now_ns()
                if measure:
                    (self.extra["with_use_case_reads"] if use_case else self.per_step[i]).append(t1 - t0)
            assert run.finished and run.outcome() == "approved"


# --- database setup -----------------------------------------------------------------------------------

def sqlalchemy_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def prepare_database(url: str, allow_any_name: bool) -> None:
    """Create the database if missing, then DROP SCHEMA public CASCADE and create it empty."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise SystemExit("--database-url must be a PostgreSQL URL")
    if "bench" not in (parsed.database or "") and not allow_any_name:
        raise SystemExit(f"refusing to wipe database {parsed.database!r}: its name has no 'bench' "
                         "(pass --i-know-this-wipes-the-database to insist)")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}) is None:
            log(f"creating database {parsed.database}")
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(parsed)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def build_app(url: str, bpmn_dir: Path, forms_dir: Path):
    os.environ.setdefault("SECRET_KEY", "bench-secret")  # else config_from_env writes instance/secret_key
    from app import create_app

    return create_app({
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": url,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "SECRET_KEY": "bench-secret",
        "BPMN_DIR": bpmn_dir,
        "FORMS_DIR": forms_dir,
    })


def migrate(app) -> None:
    """Exactly as tests/conftest.py does: Alembic upgrade head inside the app context."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig(str(REPO / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO / "migrations"))
    command.upgrade(cfg, "head")


class SqlCounter:
    """Collects the statements the engine sends while `active`, from the thread that started it.

    Without REDIS_URL the app delivers the outbox in a thread of this process (app/jobs ThreadQueue): its
    statements are the delivery's, after the step's commit, not the step's.
    """

    def __init__(self, engine):
        from sqlalchemy import event

        self.active = False
        self.thread = None
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.active and threading.get_ident() == self.thread:
            self.statements.append(statement)

    def start(self) -> None:
        self.statements = []
        self.thread = threading.get_ident()
        self.active = True

    def stop(self) -> list[str]:
        self.active = False
        return self.statements


# --- 2-4. persisted steps -----------------------------------------------------------------------------

class Harness:
    def __init__(self, app, counter: SqlCounter):
        from sqlalchemy import select

        from app.extensions import db
        from app.models import User

        self.app, self.db, self.counter = app, db, counter
        self.user_ids = dict(db.session.execute(select(User.username, User.id)).all())

    def user(self, username: str):
        """What authentication does at the start of a request: a fresh session, the user loaded."""
        from app.extensions import end_session
        from app.models import User

        end_session()  # what the previous request's teardown does
        return self.db.session.get(User, self.user_ids[username])

    def start(self, process_id: str):
        from app.approvals.instances import start_instance
        from app.runtime import deps

        return start_instance(deps(), self.user(APPLICANT), process_id, dict(APPLICATION),
                              comment="请审批").id

    def ready_task_id(self, instance_id: int) -> int:
        from sqlalchemy import select

        from app.models import HumanTask, TaskState

        ids = self.db.session.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                 HumanTask.state == TaskState.READY)).all()
        assert len(ids) == 1, f"instance {instance_id}: expected one READY task, got {ids}"
        return ids[0]

    def complete(self, username: str, task_id: int) -> tuple[int, list[str]]:
        """complete_task, commit included: (elapsed ns, statements sent)."""
        from app.approvals.tasks import complete_task
        from app.runtime import deps

        user = self.user(username)
        self.counter.start()
        t0 = now_ns()
        complete_task(deps(), user, task_id, decision="approve", comment=COMMENT, data={})
        t1 = now_ns()
        return t1 - t0, self.counter.stop()

    def inbox(self, username: str, instance_id: int) -> tuple[int, int | None, list[str]]:
        """The next approver opens 待办: (elapsed ns, this instance's task id or None, statements sent)."""
        from app.inbox.queries import InboxFilter, todo

        user = self.user(username)
        self.counter.start()
        t0 = now_ns()
        page = todo(self.db.session, user, InboxFilter())
        found = next((t.id for t in page.items if t.instance_id == instance_id), None)
        t1 = now_ns()
        return t1 - t0, found, self.counter.stop()

    def run_chain(self):
        """One instance through all five approvals; per step (complete ns, inbox ns, statements)."""
        instance_id = self.start(CHAIN_ID)
        task_id = self.ready_task_id(instance_id)
        steps = []
        for i in range(1, len(CHAIN_STEPS)):
            actor = CHAIN_STEPS[i][3]
            complete_ns, statements = self.complete(actor, task_id)
            last = i == len(CHAIN_STEPS) - 1
            reader = actor if last else CHAIN_STEPS[i + 1][3]
            inbox_ns, next_id, inbox_sql = self.inbox(reader, instance_id)
            if last:
                assert next_id is None, "finished instance still in the inbox"
            else:
                assert next_id is not None, f"step {i + 1}: next task not in {reader}'s inbox"
                task_id = next_id
            steps.append((complete_ns, inbox_ns, statements, inbox_sql))
        self.end_request()
        return instance_id, steps

    def end_request(self) -> None:
        """End the last action as a request's teardown does. Not session.remove(): closing a session with
        its read transaction open rolls back, and psycopg drops its prepared statements on a ROLLBACK."""
        from app.extensions import end_session

        end_session()


def bench_persisted(h: Harness, instances: int, warmup: int) -> dict:
    for _ in range(warmup):
        h.run_chain()
    complete_t, inbox_t, total_t, sql_counts, inbox_sql = [], [], [], [], []
    per_position: list[list[int]] = [[] for _ in CHAIN_STEPS[1:]]
    per_position_sql: list[list[int]] = [[] for _ in CHAIN_STEPS[1:]]
    sample, sample_instance = None, instances // 2
    for n in range(instances):
        _, steps = h.run_chain()
        for pos, (c, i, statements, isql) in enumerate(steps):
            complete_t.append(c)
            inbox_t.append(i)
            total_t.append(c + i)
            sql_counts.append(len(statements))
            inbox_sql.append(len(isql))
            per_position[pos].append(c + i)
            per_position_sql[pos].append(len(statements))
        if n == sample_instance:
            sample = steps
        if (n + 1) % 10 == 0:
            log(f"persisted: {n + 1}/{instances} instances")
    median_sql = statistics.median(sql_counts)
    # the representative completion: a middle approval (finance_head_approve), not the last one
    pos = 2 if len(sample) > 2 else 0
    if len(sample[pos][2]) != median_sql:
        pos = next((p for p, s in enumerate(sample) if len(s[2]) == median_sql), pos)
    names = [step[0] for step in CHAIN_STEPS[1:]]
    return {
        "persisted_step_ms": summary(total_t),
        "complete_task_ms": summary(complete_t),
        "inbox_read_ms": summary(inbox_t),
        "per_step_median_ms": {n: ms(statistics.median(v)) for n, v in zip(names, per_position, strict=True)},
        "sql_per_completion": {"median": median_sql, "max": max(sql_counts), "min": min(sql_counts),
                               "per_step": {n: max(v) for n, v in zip(names, per_position_sql, strict=True)}},
        "sql_per_inbox_read": {"median": statistics.median(inbox_sql), "max": max(inbox_sql)},
        "sql_sample": {"step": CHAIN_STEPS[pos + 1][0],
                       "statements": [" ".join(s.split())[:120] for s in sample[pos][2]]},
        "sql_sample_inbox": [" ".join(s.split())[:120] for s in sample[pos][3]],
    }


# --- 5. the loop --------------------------------------------------------------------------------------

def bench_loop_engine(xml: str, passes: int, edge: int) -> dict:
    """The same loop through app.engine alone (no database): how much of the growth is the engine's."""
    from app.engine import BpmnSource, Engine, parse_bundle
    from app.processes.operators import OperatorRegistry, default_operators

    bundle = parse_bundle(BpmnSource(f"{LOOP_ID}.bpmn", xml.encode("utf-8")))
    engine = Engine(OperatorRegistry(default_operators()))
    run = engine.start(bundle, instance_key="1", data=dict(INITIAL))
    run.complete(next(iter(run.ready_task_ids())), step_payload(0))
    state = run.dumps()
    times, sizes = [], {0: len(state.encode("utf-8"))}
    for p in range(1, passes + 1):
        t0 = now_ns()
        run = engine.load(bundle, state, instance_key="1")
        before = run.ready_task_ids()
        run.complete(next(iter(before)), step_payload(p))
        run.ready_tasks()
        state = run.dumps()
        times.append(now_ns() - t0)
        sizes[p] = len(state.encode("utf-8"))
    first, last = statistics.median(times[:edge]), statistics.median(times[-edge:])
    return {"pass_1_ms": ms(first), "pass_last_ms": ms(last), "last_over_first": round(last / first, 3),
            "state_bytes_after_pass_1": sizes[1], "state_bytes_after_last_pass": sizes[passes],
            "task_instances_in_tree": len(run.workflow.tasks),
            "every_10th_pass_ms": [ms(t) for t in times[9::10]]}


def bench_loop(h: Harness, passes: int, edge: int) -> dict:
    from sqlalchemy import func, select

    from app.models import ProcessInstance

    def state_bytes(instance_id):
        return h.db.session.scalar(select(func.octet_length(ProcessInstance.state))
                                   .where(ProcessInstance.id == instance_id))

    instance_id = h.start(LOOP_ID)
    size_before = state_bytes(instance_id)
    times, sql, sizes = [], [], {}
    for p in range(1, passes + 1):
        h.user(LOOP_APPROVER)
        task_id = h.ready_task_id(instance_id)
        elapsed, statements = h.complete(LOOP_APPROVER, task_id)
        times.append(elapsed)
        sql.append(len(statements))
        if p in (1, passes):
            sizes[p] = state_bytes(instance_id)
        if p % 50 == 0:
            log(f"loop: pass {p}/{passes}")
    h.end_request()
    first, last = statistics.median(times[:edge]), statistics.median(times[-edge:])
    return {
        "passes": passes,
        "pass_1_ms": ms(first),  # median of the first `median_of` passes
        "pass_last_ms": ms(last),  # median of the last `median_of` passes (pass 200 in a full run)
        "last_over_first": round(last / first, 3),
        "state_bytes_before_pass_1": size_before,
        "state_bytes_after_pass_1": sizes[1],
        "state_bytes_after_last_pass": sizes[passes],
        "sql_per_pass": {"first": sql[0], "last": sql[-1], "max": max(sql)},
        "median_of": edge,
        "every_10th_pass_ms": [ms(t) for t in times[9::10]],
    }


# --- profile (optional, after the measurements, never mixed into them) ---------------------------------

def profile_persisted(h: Harness, instances: int, path: str) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(instances):
        h.run_chain()
    prof.disable()
    prof.dump_stats(path)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
    log(f"profile of {instances} instances written to {path}; top by cumulative time:\n{out.getvalue()}")


# --- is anything else using the CPUs? ------------------------------------------------------------------

def cpu_snapshot() -> dict | None:
    """CPU seconds so far: the whole machine busy, this process, live PostgreSQL processes (Linux only)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
        tick = os.sysconf("SC_CLK_TCK")
        postgres = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if stat[stat.index("(") + 1:stat.rindex(")")].startswith("postgres"):
                rest = stat[stat.rindex(")") + 2:].split()
                # utime, stime, and cutime, cstime: the postmaster reaps exited backends and autovacuum
                # workers, their CPU time lands there
                postgres += int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
    except (OSError, ValueError, IndexError):
        return None
    me = os.times()
    return {"busy": (sum(fields) - fields[3] - fields[4]) / tick, "postgres": postgres / tick,
            "self": me.user + me.system, "wall": time.monotonic()}


def cpu_busy_now(seconds: float = 1.0) -> float | None:
    """Percent of all CPUs busy over the next `seconds` (before the benchmark starts)."""
    a = cpu_snapshot()
    time.sleep(seconds)
    b = cpu_snapshot()
    if a is None or b is None:
        return None
    return round(100 * (b["busy"] - a["busy"]) / ((b["wall"] - a["wall"]) * (os.cpu_count() or 1)), 1)


class OthersWatch:
    """CPU used by processes other than this one and PostgreSQL, per second of wall time, summed over the
    measured intervals (setup is left out). Kernel work nobody is billed for (loopback softirq) and VM
    steal time count as "other" too, so a quiet machine reads a few hundredths, not zero."""

    def __init__(self):
        self.other = self.wall = 0.0
        self.available = True
        self._a: dict | None = None

    def start(self) -> None:
        self._a = cpu_snapshot()

    def stop(self) -> None:
        a, b = self._a, cpu_snapshot()
        if a is None or b is None:
            self.available = False
            return
        other = (b["busy"] - a["busy"]) - (b["self"] - a["self"]) - (b["postgres"] - a["postgres"])
        self.other += max(other, 0.0)
        self.wall += b["wall"] - a["wall"]

    def share(self) -> float | None:
        return round(self.other / self.wall, 3) if self.available and self.wall else None


# --- main ---------------------------------------------------------------------------------------------

def db_round_trip(engine, work_us: int = 300, runs: int = 300) -> dict:
    """What one statement costs at the very least here: a raw `SELECT 1` on the same driver and server,
    after a little Python work (as between the statements of a step, when the server has gone idle),
    and back to back. The persisted step cannot go below (statements + BEGIN + COMMIT) x this."""
    def busy(us: int) -> None:
        end = now_ns() + us * 1000
        while now_ns() < end:
            pass

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        result = {}
        for label, pause in (("after_work_us", work_us), ("back_to_back_us", 0)):
            times = []
            for _ in range(runs):
                busy(pause)
                t0 = now_ns()
                cursor.execute("SELECT 1")
                cursor.fetchall()
                times.append(now_ns() - t0)
            result[label] = round(statistics.median(times) / 1000, 1)
        raw.rollback()
        return result
    finally:
        raw.close()


def machine_info(conn_scalar, loadavg_start) -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in loadavg_start],
        "spiffworkflow": metadata.version("SpiffWorkflow"),
        "sqlalchemy": metadata.version("SQLAlchemy"),
        "psycopg": metadata.version("psycopg"),
        "postgresql": conn_scalar("SHOW server_version"),
        "gc_enabled": gc.isenabled(),
        "clock": "time.perf_counter_ns",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few iterations: a smoke run (seconds)")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
                    help=f"PostgreSQL database to WIPE and use (default {DEFAULT_DATABASE_URL})")
    ap.add_argument("--i-know-this-wipes-the-database", dest="force", action="store_true",
                    help="allow a database whose name does not contain 'bench'")
    ap.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--profile", metavar="FILE.prof",
                    help="after measuring, cProfile extra persisted instances into FILE (summary on stderr)")
    args = ap.parse_args(argv)

    quick = args.quick
    pure_runs, pure_warmup = (16, 3) if quick else (160, 15)  # split over two blocks
    instances, inst_warmup = (4, 2) if quick else (60, 8)
    passes, edge = (20, 5) if quick else (200, 5)
    t_start, loadavg_start = now_ns(), os.getloadavg()
    busy_before = cpu_busy_now()
    watch = OthersWatch()
    watch.start()

    xml = chain_bpmn()
    pure, engine_wall = PureBench(xml), EngineBench(xml)

    def no_db_block(label: str) -> None:
        log(f"{label}: pure SpiffWorkflow and app.engine, {pure_runs // 2} runs x {len(CHAIN_STEPS)} steps each")
        pure.block(pure_runs // 2, pure_warmup)
        engine_wall.block(pure_runs // 2, pure_warmup)

    no_db_block("block 1 of 2")
    log(f"app.engine loop without DB: {passes} passes")
    loop_engine = bench_loop_engine(loop_bpmn(), passes, edge)

    watch.stop()
    url = sqlalchemy_url(args.database_url)
    prepare_database(url, args.force)
    with tempfile.TemporaryDirectory(prefix="township-bench-") as tmp:
        bpmn_dir, forms_dir = write_process_dir(Path(tmp))
        app = build_app(url, bpmn_dir, forms_dir)
        with app.app_context():
            log("migrating")
            migrate(app)
            from sqlalchemy import text

            from app.admin.seed import seed_people
            from app.approvals.deploy import deploy_processes
            from app.engine import BpmnSource
            from app.extensions import db
            from app.runtime import deps

            db.engine.dispose()  # alembic's connection state is not the app's
            seed_people(deps(), app.config["PASSWORD_HASH_PROFILE"])
            sources = [BpmnSource(p.name, p.read_bytes()) for p in sorted(bpmn_dir.glob("*.bpmn"))]
            deployed = deploy_processes(deps(), sources, forms_dir=forms_dir)
            assert {r.definition.process_id for r in deployed} == {CHAIN_ID, LOOP_ID}
            db.session.remove()
            machine = machine_info(lambda sql: db.session.scalar(text(sql)), loadavg_start)
            db.session.remove()

            watch.start()
            counter = SqlCounter(db.engine)
            harness = Harness(app, counter)
            log(f"persisted: {inst_warmup} warm-up + {instances} instances x {len(CHAIN_STEPS) - 1} steps")
            persisted = bench_persisted(harness, instances, inst_warmup)
            log(f"loop: {passes} passes")
            loop = bench_loop(harness, passes, edge)
            loop["engine_only_no_db"] = loop_engine
            round_trip = db_round_trip(db.engine)
            if args.profile:
                profile_persisted(harness, 5 if quick else 30, args.profile)
            db.session.remove()
            watch.stop()
            db.engine.dispose()
    watch.start()
    no_db_block("block 2 of 2")
    watch.stop()
    pure, engine_wall = pure.result(), engine_wall.result()
    others = watch.share()

    pure_ms = pure["all_steps"]["median_ms"]
    persisted_ms = persisted["persisted_step_ms"]["median_ms"]
    ratio = round(persisted_ms / pure_ms, 3)
    sql = persisted["sql_per_completion"]
    machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    # The figures assume nothing else competes for the cores (a test run, another benchmark). The load
    # average lags (a previous run still shows in it), so judge by CPU accounting where there is one.
    machine["cpu_busy_pct_before_start"] = busy_before
    machine["others_cpu_per_wall_second"] = others
    if busy_before is not None and others is not None:
        machine["quiet"] = busy_before < QUIET_BUSY_PCT and others < QUIET_OTHERS
    else:
        machine["quiet"] = machine["loadavg_start"][0] < QUIET_LOAD
    if not machine["quiet"]:
        log(f"WARNING: something else was using the CPUs (busy {busy_before} % before start, others "
            f"{others} CPU-s per s during the run, load {machine['loadavg_start']}); figures may be inflated")
    result = {
        "benchmark": "engine_step",
        "quick": quick,
        "pure_step_ms": pure_ms,
        "engine_wall_step_ms": engine_wall["all_steps"]["median_ms"],
        "persisted_step_ms": persisted_ms,
        "persisted_step_p95_ms": persisted["persisted_step_ms"]["p95_ms"],
        "persisted_parts_median_ms": {"complete_task": persisted["complete_task_ms"]["median_ms"],
                                      "inbox_read": persisted["inbox_read_ms"]["median_ms"]},
        "ratio": ratio,
        "sql_per_completion": {"median": sql["median"], "max": sql["max"]},
        "loop_200th_over_1st": loop["last_over_first"],
        "db_round_trip": round_trip,
        "targets": {
            "ratio_max": TARGETS["ratio_max"], "ratio_ok": ratio <= TARGETS["ratio_max"],
            "sql_per_completion_max": TARGETS["sql_per_completion_max"],
            "sql_median_ok": sql["median"] <= TARGETS["sql_per_completion_max"],
            "sql_max_ok": sql["max"] <= TARGETS["sql_per_completion_max"],
            "loop_ratio_max": TARGETS["loop_ratio_max"],
            "loop_ok": loop["last_over_first"] <= TARGETS["loop_ratio_max"],
        },
        "details": {
            "pure": pure,
            "engine_wall": engine_wall,
            "persisted": {k: v for k, v in persisted.items() if not k.startswith("sql_sample")},
            "loop": loop,
            "config": {"pure_runs": pure_runs, "pure_warmup_runs": pure_warmup, "instances": instances,
                       "warmup_instances": inst_warmup, "approvals_per_instance": len(CHAIN_STEPS) - 1,
                       "loop_passes": passes, "database": url.rsplit("@", 1)[-1]},
        },
        "sql_sample": persisted["sql_sample"]["statements"],
        "sql_sample_step": persisted["sql_sample"]["step"],
        "sql_sample_inbox_read": persisted["sql_sample_inbox"],
        "machine": machine,
        "wall_seconds": round((now_ns() - t_start) / 1e9, 1),
    }
    result["targets"]["all_ok"] = all(v for k, v in result["targets"].items() if k.endswith("_ok"))
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 1 if args.fail_on_miss and not result["targets"]["all_ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
