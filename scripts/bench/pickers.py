#!/usr/bin/env python
"""Benchmark: the form pickers' search with a township's real volume (thousands of indicators).

Prints ONE JSON document on stdout (progress on stderr): the server time of GET /pick/indicators?q=…,
/pick/projects?q=… and /pick/codes/econ_dept?q=… through the Flask test client, logged in as 李经办
(nyb_clerk, 农业农村办) and as 蒋审核 (cz_reviewer, who sees the whole township), median and p95 of
several runs per query. Target: every median <= 50 ms.

The volume: the demo 示范镇 seeded as payment_flow.py does (people, code tables, bpmn/ deployed, one
funded indicator), then INDICATORS synthetic indicators and PROJECTS projects spread over its units,
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
    indicators, projects, runs = (500, 100, 5) if args.quick else (5000, 800, 30)

    url = core.sqlalchemy_url(args.database_url)
    core.prepare_database(url, args.force)
    app = flow.build_app(url)
    with app.app_context():
        core.log("migrating and seeding 示范镇")
        core.migrate(app)
        flow.set_up_office(app)
        core.log(f"adding {indicators} indicators and {projects} projects")
        add_volume(indicators, projects)
        from app.extensions import db

        db.session.remove()
    results = {}
    for username in ("nyb_clerk", "cz_reviewer"):
        client = login(app, username)
        for urls in QUERIES.values():
            for path in urls:
                results[f"{username} {path}"] = time_query(client, path, runs)
    worst = max(r["median_ms"] for r in results.values())
    print(core.json.dumps({
        "benchmark": "pickers", "quick": args.quick, "indicators": indicators, "projects": projects,
        "runs_per_query": runs, "target_median_ms": TARGET_MS, "worst_median_ms": worst,
        "within_target": worst <= TARGET_MS, "queries": results,
    }, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
