"""The benchmark keeps working: a --quick run prints its JSON with every figure the README quotes.

Timings are not asserted here (a benchmark compares ratios in one run; a test must not time things);
the statement count per completion is a count, so it is.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_database():
    base = make_url(os.environ["DATABASE_URL"])
    name = f"{base.database}_bench"
    admin = create_engine(base.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_quick_benchmark_run_reports_every_figure(bench_database):
    run = subprocess.run([sys.executable, "scripts/bench/engine_step.py", "--quick", "--database-url", bench_database],
                         cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "SECRET_KEY": "bench"})
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    for figure in ("pure_step_ms", "engine_wall_step_ms", "persisted_step_ms", "ratio", "loop_200th_over_1st",
                   "db_round_trip"):
        assert result[figure], figure
    assert result["sql_per_completion"]["max"] <= 12
    assert result["details"]["loop"]["sql_per_pass"]["max"] <= 12


def test_a_quick_payment_benchmark_run_pays_and_reports_its_figures(bench_database):
    run = subprocess.run([sys.executable, "scripts/bench/payment_flow.py", "--quick", "--database-url", bench_database],
                         cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "SECRET_KEY": "bench"})
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    for figure in ("pure_step_ms", "payment_ms", "ratio", "per_action_ratio", "per_action_median_ms"):
        assert result[figure], figure
    assert result["payments"] == 4 and result["sql_per_payment"]["max"] > 0


def test_a_quick_timers_benchmark_run_fires_every_claimed_request_at_both_sizes(bench_database):
    run = subprocess.run([sys.executable, "scripts/bench/timers.py", "--quick", "--database-url", bench_database],
                         cwd=REPO, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "SECRET_KEY": "bench"})
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["sizes"] == [10_000, 100_000]
    for size in ("10000", "100000"):
        sweep = result["details"]["sizes"][size]["sweep"]
        assert (sweep["claimed"], sweep["fired"], sweep["failed"]) == (result["k"], result["k"], 0)
        assert result["details"]["sizes"][size]["open_tasks"] == int(size)
        assert result["sql_per_claim"][size] == 1
        assert result["overdue_query_ms"][size] > 0
    assert result["sweep_ratio"] > 0
