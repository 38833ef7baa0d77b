"""Does a login take as long for an unknown username as for a known one? (issue 10, defect 6)

    .venv/bin/python scripts/bench/login_timing.py [--rounds 20] [--profile RFC_9106_LOW_MEMORY]

Runs the real POST /api/v1/auth/token on a throwaway SQLite database (in a temp dir, schema from the
models), with the production argon2 profile, alternating a known username with a wrong password and
unknown usernames. The lockout is set out of reach so every try is checked. Prints one JSON document:
medians in ms and `unknown_over_known` (about 1.0 when both paths cost the same; 1.7 before the fix).
"""
import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _app(profile: str, db_path: Path):
    from app import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "SECRET_KEY": "bench", "JOBS_MODE": "inline",
        "PASSWORD_HASH_PROFILE": profile, "LOGIN_LOCK_AFTER": 10**6, "LOGIN_DELAY_AFTER_PER_USER": 10**6,
        "LOGIN_DELAY_AFTER_PER_IP": 10**6,
    })


def _seed(app, profile: str) -> None:
    from app.auth.passwords import hash_password
    from app.db import Base
    from app.extensions import db
    from app.models import User

    with app.app_context():
        Base.metadata.create_all(db.engine)
        db.session.add(User(username="known", display_name="已知用户", password_hash=hash_password("right-one-2026",
                                                                                                  profile),
                            active=True, created_at=datetime.now(UTC)))
        db.session.commit()


def _timed(client, username: str) -> float:
    started = time.perf_counter_ns()
    response = client.post("/api/v1/auth/token", json={"username": username, "password": "wrong-password"})
    elapsed = (time.perf_counter_ns() - started) / 1e6
    assert response.status_code == 401, response.get_json()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--profile", default="RFC_9106_LOW_MEMORY")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(args.profile, Path(tmp) / "bench.db")
        _seed(app, args.profile)
        client = app.test_client()
        _timed(client, "known"), _timed(client, "warm-up")  # first requests build caches
        known, unknown = [], []
        for i in range(args.rounds):
            known.append(_timed(client, "known"))
            unknown.append(_timed(client, f"nobody-{i}"))
    result = {"profile": args.profile, "rounds": args.rounds,
              "known_wrong_password_ms": round(statistics.median(known), 1),
              "unknown_username_ms": round(statistics.median(unknown), 1)}
    result["unknown_over_known"] = round(result["unknown_username_ms"] / result["known_wrong_password_ms"], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
