"""The API fuzzed against its own OpenAPI document (schemathesis), as an admin and as a clerk.

In-process against the WSGI app, on the test database with the whole demo seeded as `flask seed-demo`
leaves it (people, processes, code tables, this year's budget, requests at every step), so ids in paths
often exist. Every operation gets valid (positive) and invalid (negative) cases. Each must answer below
500, with a status the operation itself declares (not only `default`), its content type and headers,
and a body matching the declared schema; invalid input must be refused.

Bounded and deterministic: derandomized Hypothesis with no example database, FUZZ_EXAMPLES cases per
operation and mode (default 15; 0 skips the run), and a response slower than FUZZ_SLOW_SECONDS (default
10) counts as a failure. Failures are collected over the whole run and reported once, each with a curl
line to reproduce it (add `-H 'Authorization: Bearer …'` for the user named in the test id).
"""
import os
import re
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import hypothesis
import pytest
import schemathesis
import werkzeug
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app import clock
from app.admin.seed import seed_requests
from app.admin.seed_budget import seed_office
from app.approvals.attachments import add_attachment
from app.auth.tokens import issue_token
from app.models import (
    Attachment,
    BankBatch,
    CarbonCopy,
    HumanTask,
    Indicator,
    Notification,
    Org,
    Payment,
    ProcessInstance,
    Project,
    Proxy,
    RefKind,
    TaskState,
    User,
)
from tests.integration.test_attachments import png_bytes

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
SLOW = float(os.environ.get("FUZZ_SLOW_SECONDS", "10"))
APP_DIR = Path(__file__).resolve().parents[2] / "app"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


class UndeclaredStatus(Failure):
    code = "ST990"
    kind_title = "Status not declared by the operation itself"


class SlowResponse(Failure):
    code = "ST991"
    kind_title = f"Response slower than {SLOW:g} s"


class ClosingClient(werkzeug.Client):
    """schemathesis leaves each response open, and a download holds its file until closed. A new one
    per case, so no cookie the server sets carries over to the next case."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        response.get_data()
        response.close()
        return response


@pytest.fixture
def app(make_app, files_dir):
    """Uploads the fuzzer gets accepted go to a temp store, never the repository's instance/."""
    app = make_app(ATTACHMENT_DIR=files_dir)
    with app.app_context():
        yield app


@pytest.fixture
def seeded_office(office, demo, app, seeded, march, db_session):
    """The demo as `flask seed-demo` leaves it (requests finished and under way, the budget year running),
    and two attachments on the clerk's open requests, so downloads are answered and not only refused."""
    seeded("seed_demo", lambda: seed_requests(demo) + seed_office(demo), after="office", traveller=march)
    db_session.expire_all()
    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    open_tasks = db_session.scalars(
        select(HumanTask.id).join(ProcessInstance).where(ProcessInstance.initiator_id == clerk.id,
                                                         HumanTask.state == TaskState.READY)
        .order_by(HumanTask.id).limit(2)).all()
    files = [("发票.png", png_bytes()), ("说明.txt", "情况说明".encode())]
    for task_id, (name, data) in zip(open_tasks, files, strict=True):
        add_attachment(demo, clerk, task_id, name, data, app.config["ATTACHMENT_DIR"])


@pytest.mark.parametrize("username", ["admin", "nyb_clerk"])
def test_the_api_keeps_to_its_document(username, seeded_office, client, app, db_session):
    if EXAMPLES <= 0:
        pytest.skip("FUZZ_EXAMPLES=0")
    user = db_session.scalar(select(User).where(User.username == username))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", client.application)
    # Stricter than schemathesis, which takes any status when `default` is declared: a client must be
    # able to tell each status the server gives from the operation's own list.
    declared = {(path, method): set(op["responses"]) - {"default"}
                for path, ops in schema.raw_schema["paths"].items() for method, op in ops.items()
                if method != "parameters"}
    tokens: list[str] = []
    answered: dict[str, Counter] = defaultdict(Counter)

    def bearer() -> dict:
        if not tokens:
            tokens.append(issue_token(db_session, user, clock.now(), app.config["TOKEN_TTL"])[0])
        return {"Authorization": f"Bearer {tokens[0]}"}

    def run_case(case) -> None:
        headers = bearer()
        started = time.monotonic()
        response = case.call(headers=headers, session=ClosingClient(client.application))
        elapsed = time.monotonic() - started
        answered[case.operation.label][response.status_code] += 1
        if case.operation.path.startswith("/api/v1/auth/") and response.status_code < 300:
            tokens.clear()  # a logout or a password change may have ended it: the next case gets a new one
        if elapsed > SLOW:
            raise SlowResponse(operation=case.operation.label, message=f"answered in {elapsed:.1f} s")
        if str(response.status_code) not in declared[(case.operation.path, case.method.lower())]:
            raise UndeclaredStatus(operation=case.operation.label, message=(
                f"{response.status_code} is not among {sorted(declared[(case.operation.path, case.method.lower())])}"
                f": {response.text[:300]}"))
        case.validate_response(response, headers=headers, checks=CHECKS)

    known = _known_path_values(db_session)
    found: dict = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(_strategy(operation, mode, known), run_case, found)
    print(f"fuzzed as {username}:", *(f"{label}: {dict(sorted(c.items()))}" for label, c in answered.items()),
          sep="\n  ")
    assert not found, f"{len(found)} distinct failures as {username}:\n\n" + "\n\n".join(found.values())
    # The run reached the operations' real work, not only their refusals.
    answered_ok = {label for label, statuses in answered.items() if any(200 <= s < 300 for s in statuses)}
    assert len(answered_ok) >= len(answered) // 3, sorted(set(answered) - answered_ok)


def _known_path_values(session) -> dict[str, list]:
    """What exists, by path parameter name: random ids almost never hit a row, these do."""
    columns = {"task_id": HumanTask.id, "instance_id": ProcessInstance.id, "attachment_id": Attachment.id,
               "copy_id": CarbonCopy.id, "notification_id": Notification.id, "proxy_id": Proxy.id,
               "project_id": Project.id, "indicator_id": Indicator.id, "payment_id": Payment.id,
               "batch_id": BankBatch.id, "code": Org.code, "username": User.username}
    known = {name: session.scalars(select(column).order_by(column).limit(60)).all()
             for name, column in columns.items()}
    known["kind"] = [k.value for k in RefKind]
    return {name: values for name, values in known.items() if values}


def _strategy(operation, mode, known: dict):
    """Cases as generated, and as many again with path parameters that name something that exists."""
    generated = operation.as_strategy(generation_mode=mode)
    names = re.findall(r"{(\w+)}", operation.path)
    if not names or not all(name in known for name in names):
        return generated
    existing = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names}).flatmap(
        lambda values: operation.as_strategy(generation_mode=mode, path_parameters=values))
    return st.one_of(generated, existing)


def _fuzz(strategy, run_case, found: dict) -> None:
    """Run one operation in one mode; distinct failures go into `found`, the first reproduction kept."""

    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                         phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        try:
            run_case(case)
        except FailureGroup as group:
            for failure in group.exceptions:
                _record(found, case, failure.code, failure.title, failure.message)
        except Failure as failure:
            _record(found, case, failure.code, failure.title, failure.message)
        except Exception as error:  # TESTING propagates what would be a 500: record where it was raised
            _record(found, case, "500", "Server error", _where(error))

    run()


def _where(error: Exception) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f.filename.startswith(str(APP_DIR))] or frames[-1:]
    place = f"{os.path.relpath(ours[-1].filename, APP_DIR.parent)}:{ours[-1].lineno}" if ours else "?"
    return f"{type(error).__name__} at {place}: {str(error)[:300]}"


def _record(found: dict, case, code: str, title: str, message: str) -> None:
    label = case.operation.label
    # One entry per kind of failure and place, not per generated value.
    key = (label, code, re.sub(r'"[^"]*"|-?\d+', "…", message.splitlines()[0] if message else ""))
    if key not in found:
        mode = case.meta.generation.mode.value if case.meta else "?"
        found[key] = f"{label} [{mode}] {code} {title}\n{message[:1500]}\n  {case.as_curl_command()}"
