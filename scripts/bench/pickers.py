#!/usr/bin/env python
"""Benchmark: the form pickers' search with a township's real volume (thousands of indicators).

Prints ONE JSON document on stdout (progress on stderr): the server time of GET /pick/indicators?q=…,
/pick/projects?q=… and /pick/codes/econ_dept?q=… through the Flask test client, logged in as 李经办
(nyb_clerk, 农业农村办) and as 蒋审核 (cz_reviewer, who sees the whole township), and of
GET /pick/people?task=…&op=transfer&q=… as 周主任 (nyb_head) on a claim at his step, median and p95 of
several runs per query. Target: every median <= 50 ms.

The volume: the demo 示范镇 seeded as payment_flow.py does (people, code tables, bpmn/ deployed, one
funded indicator), then 5,000 synthetic indicators, 800 projects and 600 people spread over its units,
inserted in bulk (they need no ledger rows: an indicator without movements has zero balances, and the
balance query is the same statement).

Run from the repository root:  .venv/bin/python scripts/bench/pickers.py [--quick] [--database-url URL]
The database is WIPED (its name must contain "bench"), as for engine_step.py. See scripts/bench/README.md.
"""
import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for _path in (str(REPO), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import engine_step as core  # noqa: E402 - same database rules and harness pieces
import payment_flow as flow  # noqa: E402 - same app wiring and seeded office

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/township_bench_pickers"
TARGET_MS = 50
QUERIES = {
    "indicators": ["/pick/indicators", "/pick/indicators?q=灌溉", "/pick/indicators?q=30213",
                   "/pick/indicators?q=SFZ26", "/pick/indicators?q=没有这种"],
    "projects": ["/pick/projects", "/pick/projects?q=项目1"],
    "codes": ["/pick/codes/econ_dept?q=302", "/pick/codes/function?q=农业"],
}
PEOPLE_QUERIES = ["", "zzr", "王", "wang", "zfb"]  # appended to /pick/people?task=…&op=transfer&q=
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def add_volume(indicators: int, projects: int) -> None:
    """Projects and indicators of every unit of 示范镇, in bulk."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Indicator, Org, OrgKind, Project, ProjectStatus, User

    session = db.session
    township = session.scalar(select(Org).where(Org.code == "SFZ"))
    units = session.scalars(select(Org).where(Org.kind == OrgKind.UNIT, Org.path.like(township.path + "%"))).all()
    now = datetime.now(UTC)
    clerk = session.scalar(select(User.id).where(User.username == "nyb_clerk"))
    session.execute(insert(Project), [
        {"code": f"SFZ26B{n:012d}", "name": f"基准项目{n}（灌溉、道路、校舍）", "org_id": units[n % len(units)].id,
         "township_id": township.id, "category_code": "3", "start_year": 2026, "end_year": 2026,
         "total_amount": Decimal("100000.00"), "status": ProjectStatus.IN_LIBRARY, "goals": [],
         "created_by_id": clerk, "created_at": now, "updated_at": now}
        for n in range(projects)])
    ids = session.scalars(select(Project.id).where(Project.code.like("SFZ26B%")).order_by(Project.id)).all()
    session.execute(insert(Indicator), [
        {"code": f"SFZ26I{n:012d}", "fiscal_year": 2026, "township_id": township.id,
         "org_id": units[n % len(units)].id, "project_id": ids[n % len(ids)], "func_code": "2130199",
         "econ_dept_code": ("30213", "30218", "30201")[n % 3], "econ_gov_code": "50209",
         "fund_nature_code": "111", "amount": Decimal("10000.00"), "created_at": now}
        for n in range(indicators)])
    session.commit()


def add_people(count: int) -> None:
    """`count` more active people of 示范镇's units (经办人), with Chinese names, in bulk."""
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Org, OrgKind, RoleGrant, User

    session = db.session
    units = session.scalars(select(Org.id).where(Org.kind == OrgKind.UNIT, Org.code.like("SFZ-%"))).all()
    now = datetime.now(UTC)
    session.execute(insert(User), [
        {"username": f"bench_{n}", "display_name": SURNAMES[n % len(SURNAMES)] + GIVEN[(n // 3) % len(GIVEN)]
         + GIVEN[(n * 7) % len(GIVEN)], "password_hash": "!", "active": True, "created_at": now}
        for n in range(count)])
    ids = session.scalars(select(User.id).where(User.username.like("bench\\_%"))).all()
    session.execute(insert(RoleGrant), [{"user_id": uid, "role": "clerk", "org_id": units[i % len(units)]}
                                        for i, uid in enumerate(ids)])
    session.commit()


def a_task_of_the_head(office) -> int:
    """A claim of 农业农村办 waiting at its 单位负责人审核 (周主任 may transfer it)."""
    from sqlalchemy import select

    from app.models import HumanTask, TaskState

    iid = office.start("nyb_clerk", "expense_claim", {"title": "基准报销", "amount": Decimal("100.00"),
                                                      "expense_type": "办公费", "payee": "镇供销社"})
    return office.db.session.scalar(select(HumanTask.id).where(HumanTask.instance_id == iid,
                                                               HumanTask.state == TaskState.READY))


def login(app, username: str):
    import re

    from app.admin.seed import DEMO_PASSWORD

    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def time_query(client, url: str, runs: int) -> dict:
    times = []
    for n in range(runs + 2):
        t0 = time.perf_counter_ns()
        response = client.get(url)
        elapsed = time.perf_counter_ns() - t0
        assert response.status_code == 200, (url, response.status_code)
        if n >= 2:  # two warm-ups
            times.append(elapsed)
    times.sort()
    return {"median_ms": core.ms(statistics.median(times)), "p95_ms": core.ms(times[int(len(times) * .95) - 1])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: fewer rows and runs")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    ap.add_argument("--i-know-this-wipes-the-database", dest="force", action="store_true")
    args = ap.parse_args(argv)
    indicators, projects, people, runs = (500, 100, 50, 5) if args.quick else (5000, 800, 600, 30)

    url = core.sqlalchemy_url(args.database_url)
    core.prepare_database(url, args.force)
    app = flow.build_app(url)
    with app.app_context():
        core.log("migrating and seeding 示范镇")
        core.migrate(app)
        _counter, office, _indicator = flow.set_up_office(app)
        core.log(f"adding {indicators} indicators, {projects} projects and {people} people")
        add_volume(indicators, projects)
        add_people(people)
        task_id = a_task_of_the_head(office)
        from app.extensions import db

        db.session.remove()
    results = {}
    for username in ("nyb_clerk", "cz_reviewer"):
        client = login(app, username)
        for urls in QUERIES.values():
            for path in urls:
                results[f"{username} {path}"] = time_query(client, path, runs)
    head = login(app, "nyb_head")
    for q in PEOPLE_QUERIES:
        results[f"nyb_head /pick/people?op=transfer&q={q}"] = time_query(
            head, f"/pick/people?task={task_id}&op=transfer&q={q}", runs)
    worst = max(r["median_ms"] for r in results.values())
    print(core.json.dumps({
        "benchmark": "pickers", "quick": args.quick, "indicators": indicators, "projects": projects,
        "people": people,
        "runs_per_query": runs, "target_median_ms": TARGET_MS, "worst_median_ms": worst,
        "within_target": worst <= TARGET_MS, "queries": results,
    }, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
