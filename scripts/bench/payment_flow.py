#!/usr/bin/env python
"""Benchmark: one payment end to end (every step, the ledger and the vouchers) against the pure engine step.

Prints ONE JSON document on stdout (progress on stderr). Both figures come from the same run, in one
process, timed with time.perf_counter_ns():

  pure_step_ms        SpiffWorkflow alone on the approval-core benchmark's six-step chain (engine_step.py's
                      PureBench: deserialize, run one user task, do_engine_steps, serialize).
  payment_ms          one 资金支付 request of the real bpmn/payment.bpmn on PostgreSQL, through the use cases
                      the API calls: the clerk submits (record, control check, reservation), 单位负责人,
                      财政所 (control check, tier routing), 分管领导 (T0), 国库 submits to the bank (check,
                      batch), then the bank's answer (ledger post, vouchers). Six commits.
  ratio               payment_ms / pure_step_ms; per_action_ratio divides by the six actions.

Run from the repository root:  .venv/bin/python scripts/bench/payment_flow.py [--quick] [--database-url URL]
The database is WIPED (its name must contain "bench"), as for engine_step.py.
"""
import argparse
import os
import statistics
import sys
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for path in (str(REPO), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import engine_step as core  # noqa: E402 - the approval-core benchmark: same pure step, same harness pieces

ACTIONS = ["submit", "unit_head", "finance_review", "deputy", "treasury", "bank_answer"]
PAYMENT = {"title": "灌溉渠道维修材料款", "purpose": "灌溉渠道维修材料", "payee_name": "示范镇建材商行",
           "payee_account": "6222020200012345678", "payee_bank": "农行示范镇支行", "invoice_count": 2}


def build_app(url: str):
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    from app import create_app

    return create_app({"TESTING": False, "SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_PROFILE": "CHEAPEST",
                       "SECRET_KEY": "bench-secret", "BANK_ADAPTER": "file", "JOBS_MODE": "inline"})


class Office:
    """The seeded 示范镇 with one large indicator of 农业农村办, driven through the use cases."""

    def __init__(self, app, counter):
        from sqlalchemy import select

        from app.extensions import db
        from app.models import User

        self.db, self.counter = db, counter
        self.user_ids = dict(db.session.execute(select(User.username, User.id)).all())

    def user(self, username: str):
        from app.extensions import end_session
        from app.models import User

        end_session()
        return self.db.session.get(User, self.user_ids[username])

    def act(self, username: str, instance_id: int, data: dict | None = None) -> None:
        from sqlalchemy import select

        from app.approvals.tasks import complete_task
        from app.models import HumanTask, TaskState
        from app.runtime import deps

        user = self.user(username)
        task_id = self.db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                                     HumanTask.state == TaskState.READY))
        complete_task(deps(), user, task_id, decision="approve", comment="同意", data=data or {})

    def start(self, username: str, process_id: str, data: dict) -> int:
        from app.approvals.instances import start_instance
        from app.runtime import deps

        return start_instance(deps(), self.user(username), process_id, data).id

    def fund(self) -> str:
        """A project through 项目入库 and a 1亿 indicator through 预算申报 and the review chain."""
        from sqlalchemy import select

        from app.models import Indicator, Project

        project = self.start("nyb_clerk", "project_entry", {
            "title": "基准项目", "name": "基准项目", "category_code": "3", "start_year": 2026, "end_year": 2026,
            "amount": Decimal("100000000.00"), "goals": [{"name": "完成", "target": "100%"}]})
        for who, data in [("nyb_head", {}), ("cz_reviewer", {}),
                          ("dangweihui", {"meeting_date": "2026-01-05", "minutes_no": "1号", "resolution": "同意"})]:
            self.act(who, project, data)
        code = self.db.session.scalar(select(Project.code).where(Project.instance_id == project))
        declaration = self.start("nyb_clerk", "budget_declaration", {
            "title": "基准预算", "fiscal_year": 2026, "lines": [{
                "project_code": code, "func_code": "2130199", "econ_dept_code": "30213", "fund_nature_code": "111",
                "amount": Decimal("100000000.00")}]})
        meeting = {"meeting_date": "2026-01-05", "minutes_no": "1号"}
        for who, data in [("nyb_head", {}), ("cz_reviewer", {}), ("cz_head", {}), ("zhenzhang", meeting),
                          ("dangweihui", meeting), ("renda", {"session_name": "镇人大", "resolution_no": "1号"}),
                          ("cz_reviewer2", {"doc_no": "示财预1号"})]:
            self.act(who, declaration, data)
        return self.db.session.scalar(select(Indicator.code).where(Indicator.instance_id == declaration))

    def payment(self, indicator: str, n: int) -> tuple[list[int], int]:
        """One T0 payment end to end: (ns per action, statements sent)."""
        from sqlalchemy import select

        from app.budget.settlement import settle_payment
        from app.models import Payment
        from app.runtime import deps

        times = []
        self.counter.start()
        t0 = core.now_ns()
        # A contract of its own per payment, 500 元 each: T0, and the purpose's total for the run stays below
        # the 50,000 collective-decision line (C18 counts the purpose across contracts).
        iid = self.start("nyb_clerk", "payment", {**PAYMENT, "indicator_code": indicator,
                                                  "amount": Decimal("500.00"), "contract_no": f"BENCH-{n}"})
        times.append(core.now_ns() - t0)
        for who, data in [("nyb_head", {}), ("cz_reviewer", {"documents_complete": True}), ("deputy", {}),
                          ("guoku", {})]:
            t0 = core.now_ns()
            self.act(who, iid, data)
            times.append(core.now_ns() - t0)
        ref = self.db.session.scalar(select(Payment.bank_ref).where(Payment.instance_id == iid))
        t0 = core.now_ns()
        settle_payment(deps(), ref, "paid")
        times.append(core.now_ns() - t0)
        statements = len(self.counter.stop())
        status = self.db.session.scalar(select(Payment.status).where(Payment.instance_id == iid))
        assert status == "paid", f"payment {iid} ended {status}"
        self.db.session.remove()
        return times, statements


def set_up_office(app) -> tuple[core.SqlCounter, "Office", str]:
    """On a migrated database, inside the app context: the demo people and codes, bpmn/ deployed, and
    农业农村办 funded through 项目入库 and 预算申报. Returns the statement counter, the office, the indicator."""
    from app.admin.seed import seed_people, seed_reference
    from app.approvals.deploy import deploy_processes
    from app.config import ROOT
    from app.engine import BpmnSource
    from app.extensions import db
    from app.runtime import deps

    db.engine.dispose()  # alembic's connection state is not the app's
    seed_people(deps(), app.config["PASSWORD_HASH_PROFILE"])
    seed_reference(deps())
    sources = [BpmnSource(p.name, p.read_bytes()) for p in sorted((ROOT / "bpmn").glob("*.bpmn"))]
    deploy_processes(deps(), sources, forms_dir=ROOT / "forms")
    counter = core.SqlCounter(db.engine)
    office = Office(app, counter)
    return counter, office, office.fund()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: a few payments")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", core.DEFAULT_DATABASE_URL))
    ap.add_argument("--i-know-this-wipes-the-database", dest="force", action="store_true")
    args = ap.parse_args(argv)
    pure_runs, pure_warmup = (16, 3) if args.quick else (160, 15)
    payments, warmup = (4, 1) if args.quick else (60, 6)

    pure = core.PureBench(core.chain_bpmn())
    core.log(f"pure SpiffWorkflow: {pure_runs // 2} chains x {len(core.CHAIN_STEPS)} steps")
    pure.block(pure_runs // 2, pure_warmup)

    url = core.sqlalchemy_url(args.database_url)
    core.prepare_database(url, args.force)
    app = build_app(url)
    with app.app_context():
        core.log("migrating and seeding 示范镇")
        core.migrate(app)
        from app.extensions import db

        counter, office, indicator = set_up_office(app)
        core.log(f"payments: {warmup} warm-up + {payments}")
        per_action: list[list[int]] = [[] for _ in ACTIONS]
        totals, statements = [], []
        for n in range(warmup + payments):
            times, sql = office.payment(indicator, n)
            if n >= warmup:
                totals.append(sum(times))
                statements.append(sql)
                for i, t in enumerate(times):
                    per_action[i].append(t)
        db.session.remove()
        db.engine.dispose()
    core.log("pure SpiffWorkflow, second block")
    pure.block(pure_runs // 2, pure_warmup)
    pure_result = pure.result()
    pure_ms = pure_result["all_steps"]["median_ms"]
    payment_ms = core.ms(statistics.median(totals))
    result = {
        "benchmark": "payment_flow",
        "quick": args.quick,
        "pure_step_ms": pure_ms,
        "payment_ms": payment_ms,
        "payment_p95_ms": core.summary(totals)["p95_ms"],
        "actions_per_payment": len(ACTIONS),
        "ratio": round(payment_ms / pure_ms, 2),
        "per_action_ratio": round(payment_ms / len(ACTIONS) / pure_ms, 2),
        "per_action_median_ms": {a: core.ms(statistics.median(xs)) for a, xs in zip(ACTIONS, per_action, strict=True)},
        "sql_per_payment": {"median": statistics.median(statements), "max": max(statements)},
        "payments": len(totals),
        "pure_block_medians_ms": pure_result["block_medians_ms"],
    }
    print(core.json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
