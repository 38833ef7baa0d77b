"""The scope matrix: no route tells a user outside 农业农村办 that one of its objects exists.

Generated from `app.url_map`, so a route added later is covered without anyone remembering: every rule
with a variable (<int:task_id>, <code>, <username> …), for every method, API and pages alike, is
requested with real objects of 示范镇's 农业农村办 and with a value that names nothing, as users of
another unit of the same township (swb_clerk, swb_head) and of 青山镇 (qs_clerk, qs_head). The two
answers must be the same: status, content type, error body or page text, redirect target (the id
echoed aside). Writes are sent with an empty body and with a plausible one, pages with a valid CSRF
token: a refusal must not depend on existence either. The API's query parameters that take a code
(`org`, `township`, `project`, `user` …, read from the OpenAPI document) get the same comparison. No
answer may be a server error.

What is filled how, and what may legitimately differ (with the reason per route), is in scope_matrix.py.
"""
import json
import re
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlencode

import pytest

from app import clock
from app.api import api as api_docs
from tests.integration.office import as_json, payment_data
from tests.integration.scope_matrix import (
    ALLOWED,
    APPLICANTS,
    APPLICATIONS,
    FORM_CODES,
    MISSING_CODE,
    MISSING_FORM_CODES,
    MISSING_ID,
    OTHER_TOWNSHIP,
    OWNER_UNIT,
    QUERY_FILLERS,
    SAME_TOWNSHIP,
    SHARED_FORM_CODES,
    form_code_fields,
    kind_of,
    plausible_api_body,
    plausible_form,
    seed_nyb,
    unfilled,
    unfilled_query,
)
from tests.web.conftest import Browser, csrf_token, main_text

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OUTSIDERS = SAME_TOWNSHIP + OTHER_TOWNSHIP


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    location: str
    body: str

    def echoing(self, missing, real) -> "Answer":
        """This answer as if it had echoed `real` where it echoes `missing`."""
        def swap(text: str) -> str:
            return re.sub(rf"(?<![\w.]){re.escape(str(missing))}(?![\w.])", str(real), text)

        return Answer(self.status, self.content_type, swap(self.location), swap(self.body))

    def brief(self, start: int = 0) -> str:
        where = f" → {self.location}" if self.location else ""
        body = self.body if start == 0 else "…" + self.body[start:]
        return f"{self.status} {self.content_type}{where}: {body[:300]}"


def _first_difference(a: str, b: str) -> int:
    """Where two bodies part, less some context, so the report shows the difference itself."""
    same = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return max(0, same - 60)


@dataclass(frozen=True)
class Probe:
    """One address to request twice: naming a real object of 农业农村办, and naming nothing."""

    endpoint: str
    method: str
    kind: str
    label: str
    real_url: str
    missing_url: str
    real: object
    missing: object

    def name(self) -> str:
        return f"{self.method} {self.real_url} ({self.endpoint}, {self.kind}: {self.label})"


def _missing(value):
    return MISSING_ID if isinstance(value, int) else MISSING_CODE


def path_probes(app, seeded, *, api: bool):
    """Every rule with a variable, every method, every seeded object of the variable's kind."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.arguments or rule.rule.startswith("/api/") != api:
            continue
        kinds = {kind_of(rule.endpoint, variable) for variable in rule.arguments}
        assert len(kinds) == 1, f"{rule.rule}: the matrix fills one object per address; teach it {kinds}"
        [kind] = kinds
        if kind is None:  # names nothing anyone owns: scope_matrix.NOT_OWNED
            continue
        for method in sorted(set(rule.methods) & set(METHODS)):
            for label, value in seeded.ids[kind]:
                yield Probe(rule.endpoint, method, kind, label, _path_url(rule, value),
                            _path_url(rule, _missing(value)), value, _missing(value))


def _path_url(rule, value) -> str:
    return rule.build(dict.fromkeys(rule.arguments, value), append_unknown=False)[1]


def openapi_path(rule) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)


def query_parameters(app) -> dict[str, list[str]]:
    """endpoint -> the names of its GET query parameters, as the OpenAPI document declares them."""
    with app.test_request_context():
        paths = api_docs.spec.to_dict()["paths"]
    found = {}
    for rule in app.url_map.iter_rules():
        operation = paths.get(openapi_path(rule), {}).get("get")
        if operation:
            found[rule.endpoint] = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    return found


def query_probes(app, seeded):
    """Every API read with a query parameter that takes a code, once per seeded code of that kind."""
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint, names in sorted(query_parameters(app).items()):
        rule = rules[endpoint]
        for name in names:
            if name not in QUERY_FILLERS:
                continue
            assert not rule.arguments, f"{rule.rule}: teach the matrix an address with a variable and ?{name}="
            for kind, extra in QUERY_FILLERS[name]:
                for label, value in seeded.ids[kind]:
                    yield Probe(endpoint, "GET", f"?{name}= {kind}", label, _query_url(rule, {name: value, **extra}),
                                _query_url(rule, {name: MISSING_CODE, **extra}), value, MISSING_CODE)


def _query_url(rule, query: dict) -> str:
    return f"{rule.rule}?{urlencode(query)}"


def _answer(response, *, page: bool) -> Answer:
    if response.mimetype == "application/json":
        body = json.dumps(response.get_json(), ensure_ascii=False, sort_keys=True)
    elif page and response.mimetype == "text/html":
        body = main_text(response.get_data(as_text=True))
    else:  # a file, a workbook: its size and type say enough
        body = f"<{len(response.get_data())} bytes>"
    return Answer(response.status_code, response.mimetype or "", response.headers.get("Location", ""), body)


class Matrix:
    """Requests both addresses of each probe as one outsider and collects every way the answers differ."""

    def __init__(self, who: str, send):
        self.who, self.send = who, send
        self.missing_answers: dict = {}  # the missing address answers alike whichever real object it stands for
        self.compared = 0
        self.found: list[str] = []

    def compare(self, probe: Probe, variant: str, kwargs: dict) -> None:
        if _allowed(probe.endpoint, self.who):
            return
        real = self._send(probe.method, probe.real_url, kwargs)
        key = (probe.method, probe.missing_url, variant)
        if key not in self.missing_answers:
            self.missing_answers[key] = self._send(probe.method, probe.missing_url, kwargs)
        missing = self.missing_answers[key]
        self.compared += 1
        where = f"{probe.name()} as {self.who}, {variant}"
        self.found += [f"{where}: the {which} one answers {answer.brief()}"
                       for answer, which in ((real, "real"), (missing, "missing")) if answer.status >= 500]
        echoed = missing.echoing(probe.missing, probe.real)
        if real != echoed:
            start = _first_difference(real.body, echoed.body)
            self.found.append(f"{where}:\n      real    {real.brief(start)}\n      missing {echoed.brief(start)}")


    def _send(self, method: str, url: str, kwargs: dict) -> Answer:
        try:
            return self.send(method, url, kwargs)
        except Exception as exc:  # noqa: BLE001 – TESTING propagates what production would answer with a 500
            return Answer(500, "an exception", "", f"{type(exc).__name__}: {exc}")


def _allowed(endpoint: str, who: str) -> bool:
    return (endpoint, "same_township" if who in SAME_TOWNSHIP else "other_township") in ALLOWED


def _fresh(kwargs: dict) -> dict:
    """Uploads are streams, read once: every request gets its own copy."""
    data = kwargs.get("data")
    if not isinstance(data, dict):
        return kwargs
    return {**kwargs, "data": {k: (BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v
                               for k, v in data.items()}}


# --- the API -----------------------------------------------------------------------------------------------

def api_variants(probe: Probe):
    """(name, request kwargs): nothing for a read; for a write an empty body and a plausible one.

    (A body that is not JSON at all is refused by the parser before any view runs, alike for every id.)
    """
    if probe.method == "GET":
        yield "GET", {}
        return
    yield "{}", {"json": {}}
    plausible = plausible_api_body(probe.endpoint)
    if plausible is not None:
        yield "a plausible body", plausible


def api_matrix(as_user, seeded, app) -> list[Matrix]:
    matrices = []
    for who in OUTSIDERS:
        api = as_user(who)

        def send(method, url, kwargs, api=api):
            return _answer(getattr(api, method.lower())(url, **_fresh(kwargs)), page=False)

        matrix = Matrix(who, send)
        for probe in path_probes(app, seeded, api=True):
            for variant, kwargs in api_variants(probe):
                matrix.compare(probe, variant, kwargs)
        for probe in query_probes(app, seeded):
            matrix.compare(probe, "GET", {})
        matrices.append(matrix)
    return matrices


# --- the pages ---------------------------------------------------------------------------------------------

def page_variants(probe: Probe, token: str):
    if probe.method == "GET":
        yield "GET", {}
        return
    yield "only the CSRF token", {"data": {"csrf_token": token}}
    form = plausible_form(probe.endpoint)
    if form is not None:
        yield "a plausible form", {"data": {"csrf_token": token, **form}}


def page_matrix(web_app, seeded) -> list[Matrix]:
    matrices = []
    for who in OUTSIDERS:
        person = Browser(web_app.test_client())
        assert person.login(who).status_code == 302, f"{who} cannot log in"
        token = csrf_token(person.get("/proxies").text)

        def send(method, url, kwargs, person=person):
            call = person.get if method == "GET" else person.post
            return _answer(call(url, **_fresh(kwargs)), page=True)

        matrix = Matrix(who, send)
        for probe in path_probes(web_app, seeded, api=False):
            for variant, kwargs in page_variants(probe, token):
                matrix.compare(probe, variant, kwargs)
        matrices.append(matrix)
    return matrices


# --- the tests ---------------------------------------------------------------------------------------------

@pytest.fixture
def app(make_app, tmp_path):
    """Every app of this module (the API client's, the pages') stores attachments in the test's own dir."""
    app = make_app(ATTACHMENT_DIR=tmp_path / "attachments")
    with app.app_context():
        yield app


def test_every_address_variable_and_code_parameter_has_a_filler(app):
    """A new route with an id or a code must be taught to the matrix, or it would slip past it."""
    missing = [f"{endpoint} <{variable}>" for endpoint, variable in unfilled(app)]
    missing += [f"{endpoint} ?{name}=" for endpoint, names in sorted(query_parameters(app).items())
                for name in unfilled_query(names)]
    assert not missing, (
        "The scope matrix does not know how to fill: " + "; ".join(missing) + ". Teach it in "
        "tests/integration/scope_matrix.py: a filler (FILLERS by variable name, BY_ENDPOINT, QUERY_FILLERS) and "
        "a real object of 农业农村办 in seed_nyb, or NOT_OWNED / NOT_CODES with the reason.")


def test_the_allow_list_names_only_routes_that_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not {endpoint for endpoint, _ in ALLOWED} - endpoints


def test_no_route_tells_an_outsider_that_an_object_of_another_unit_exists(office, funded, march, as_user, make_app,
                                                                           app):
    seeded = seed_nyb(office, funded)
    march.move_to(clock.now(), tick=False)  # answers that show the time (the board's as_of) compare equal
    web_app = make_app(**app.extensions["test_overrides"])
    matrices = api_matrix(as_user, seeded, app) + page_matrix(web_app, seeded)
    found = [line for m in matrices for line in m.found]
    assert not found, f"{len(found)} answers tell an outsider that an object exists:\n  " + "\n  ".join(found)
    # The matrix is only as good as what it compared: every outsider, every kind of object, API and pages.
    assert all(m.compared > 50 for m in matrices), [(m.who, m.compared) for m in matrices]


# --- codes in application forms ----------------------------------------------------------------------------

def application_forms(deps) -> dict[str, dict]:
    """process id -> the application form of its latest version."""
    from app.approvals.instances import application_form, deployed_for_start
    from app.processes.definitions import latest_definitions

    return {d.process_id: application_form(deployed_for_start(deps, d.process_id))
            for d in latest_definitions(deps.session)}


def _field(path: str) -> str:
    return path.rsplit(".", 1)[-1].removesuffix("[]")


@dataclass(frozen=True)
class FormFiller:
    """Fills each code field with 农业农村办's first object of its kind, and the `blank` one with a code of nothing."""

    seeded: object
    blank: str | None = None

    def __call__(self, field: str):
        kind = FORM_CODES[field]
        return MISSING_FORM_CODES[kind] if field == self.blank else self.seeded.ids[kind][0][1]


def form_probes(forms: dict, seeded):
    """(process, field path, data naming a real object, the same naming nothing there, real code, missing code)."""
    for process_id, form in sorted(forms.items()):
        fields = {p for p in form_code_fields(form) if _field(p) in FORM_CODES}
        used = set()
        for build in APPLICATIONS.get(process_id, []):
            for path in sorted(fields):
                name = _field(path)
                real_data, missing_data = build(FormFiller(seeded)), build(FormFiller(seeded, blank=name))
                if real_data == missing_data:
                    continue  # this application leaves the field out
                used.add(path)
                yield (process_id, path, real_data, missing_data, FormFiller(seeded)(name),
                       MISSING_FORM_CODES[FORM_CODES[name]])
        assert used == fields, (
            f"{process_id}: the application form's code fields {sorted(fields - used)} are not probed: add an "
            "application that uses them to APPLICATIONS in tests/integration/scope_matrix.py")


def test_every_code_field_of_an_application_form_is_known(app, demo):
    """A new form field that takes a code must be taught to the matrix (FORM_CODES or SHARED_FORM_CODES)."""
    unknown = sorted(f"{pid}: {path}" for pid, form in application_forms(demo).items()
                     for path in form_code_fields(form) if _field(path) not in set(FORM_CODES) | SHARED_FORM_CODES)
    assert not unknown, ("Application form fields that look like codes, unknown to the scope matrix: "
                         + "; ".join(unknown) + ". Add each to FORM_CODES (with a seeded kind) or to SHARED_FORM_CODES "
                         "in tests/integration/scope_matrix.py.")


def test_no_application_tells_an_outsider_that_a_code_of_another_unit_exists(office, funded, march, as_user,
                                                                               demo):
    """Naming 农业农村办's indicator or project in one's own application is answered as naming none."""
    seeded = seed_nyb(office, funded)
    march.move_to(clock.now(), tick=False)
    found, compared = [], 0
    for who in APPLICANTS:
        api = as_user(who)

        def start(process_id, data, api=api):
            response = api.post("/api/v1/instances", data=as_json({"process_id": process_id, "data": data}),
                                content_type="application/json")
            return _answer(response, page=False)

        for process_id, path, real_data, missing_data, code, missing_code in form_probes(application_forms(demo),
                                                                                         seeded):
            real, missing = start(process_id, real_data), start(process_id, missing_data)
            compared += 1
            echoed = missing.echoing(missing_code, code)
            if real != echoed or real.status >= 500:
                start_at = _first_difference(real.body, echoed.body)
                found.append(f"{process_id} {path}={code} as {who}:\n      real    {real.brief(start_at)}\n"
                             f"      missing {echoed.brief(start_at)}")
    assert not found, f"{len(found)} applications tell an outsider that a code exists:\n  " + "\n  ".join(found)
    assert compared >= 2 * len(FORM_CODES)


def test_applying_in_the_name_of_another_unit_is_answered_as_for_a_unit_that_does_not_exist(office, funded, as_user):
    _, codes = funded
    data = {"process_id": "payment", "data": payment_data(codes[0], "100.00")}
    for who in APPLICANTS:
        api = as_user(who)
        real, missing = (_answer(api.post("/api/v1/instances", data=as_json({**data, "org": org}),
                                          content_type="application/json"), page=False)
                         for org in (OWNER_UNIT, "SFZ-NOSUCH"))
        assert real == missing.echoing("SFZ-NOSUCH", OWNER_UNIT), (who, real, missing)
