"""What the scope matrix needs: 农业农村办's realistic state, how to fill each URL variable, and the allow-list.

The matrix (tests/integration/test_scope_matrix.py) walks `app.url_map`. Every variable of every rule is
filled from FILLERS by its name (and, where one endpoint means a particular kind of object, from
BY_ENDPOINT): the real objects 示范镇's 农业农村办 owns, seeded once by `seed_nyb`, and a value that names
nothing. A route whose variable has no filler fails the matrix, so a route added later is covered as
soon as it exists.
"""
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO

from flask import current_app
from sqlalchemy import select

from app import clock
from app.admin.people import GrantSpec, add_user
from app.admin.seed import DEMO_PASSWORD
from app.models import CarbonCopy, HumanTask, Notification, Project, Role, TaskKind, TaskState, User
from tests.integration.office import Office, line, money, payment_data

# Ids no row has (well inside a 32-bit column: out-of-range ids are issue 10's defect 3, not this matrix).
MISSING_ID = 987654
MISSING_CODE = "NOSUCH"

OWNER_UNIT = "SFZ-NYB"  # 示范镇 农业农村办
OWNER_TOWNSHIP = "SFZ"
SAME_TOWNSHIP = ("swb_clerk", "swb_head")  # 社会事务办: another unit of 示范镇
# 青山镇; qs_admin, its own system admin (the most any outsider holds), is added by seed_nyb.
OTHER_TOWNSHIP = ("qs_clerk", "qs_head", "qs_admin")


@dataclass
class Seeded:
    """Ids of what 农业农村办 owns, by kind; each kind may hold several objects (an open task, a done one…)."""

    ids: dict[str, list[tuple[str, object]]] = field(default_factory=dict)

    def add(self, kind: str, label: str, value) -> None:
        assert value is not None, f"seeding made no {kind} ({label})"
        self.ids.setdefault(kind, []).append((label, value))


def seed_nyb(office: Office, funded) -> Seeded:
    """A budget year's worth of 农业农村办 on top of `funded` (its project and two indicators):

    - payment A: started by nyb_clerk, open at nyb_head, who attached a file, copied it to czs_clerk and set
      a proxy; the clerk urged it, so the head has a notification;
    - payment B: through the finance office and the deputy to the treasury: in a bank batch, awaiting the bank;
    - payment C: at the compliance review, where cz_reviewer added a signer (a signer sub-task).
    Amounts stay in tier T0 together (the tier counts live payments of one purpose).
    """
    project, codes = funded
    seeded = Seeded()
    add_user(office.session, "qs_admin", DEMO_PASSWORD, [GrantSpec(Role.ADMIN, "QSZ")], display_name="青山管理员",
             now=clock.now(), hash_profile=current_app.config["PASSWORD_HASH_PROFILE"])
    a, open_task = _payment_at_the_unit_head(office, seeded, codes[0])
    b = office.start("nyb_clerk", "payment", payment_data(codes[0], "250.00", title="农机维修配件款"))["id"]
    for who, data in (("nyb_head", None), ("cz_reviewer", {"documents_complete": True}), ("deputy", None),
                      ("guoku", None)):
        office.act(who, b, data=data)
    c = office.start("nyb_clerk", "payment", payment_data(codes[0], "200.00", title="防汛沙袋采购款"))["id"]
    office.act("nyb_head", c)
    review = office.task_for("cz_reviewer", c)["id"]
    signer = office.as_user("cz_reviewer").post(f"/api/v1/tasks/{review}/signers", json={"signers": ["cz_head"]})
    assert signer.status_code == 200, signer.get_json()

    session = office.session
    session.expire_all()
    for label, task_id in (("open at the unit head", open_task),
                           ("the applicant's own step, done", _done_by(session, a, "nyb_clerk")),
                           ("approved by the unit head", _done_by(session, b, "nyb_head")),
                           ("the compliance review, waiting for its signer", review),
                           ("a signer's sub-task", session.scalar(select(HumanTask.id).where(
                               HumanTask.instance_id == c, HumanTask.kind == TaskKind.SIGNER_BEFORE,
                               HumanTask.state == TaskState.READY)))):
        seeded.add("task", label, task_id)
    library = session.scalar(select(Project).where(Project.code == project))
    for kind, label, value in (
            ("instance", "a payment at the unit head", a), ("instance", "a payment awaiting the bank", b),
            ("instance", "the project's 项目入库, approved", library.instance_id),
            ("project", "in the library", library.id), ("project_code", "in the library", project),
            *(("indicator", code, office.indicator(code).id) for code in codes),
            ("indicator_code", codes[0], codes[0]),
            ("payment", "at the unit head", office.payment(a).id),
            ("payment", "in a bank batch", office.payment(b).id),
            ("batch", "the treasury's batch", office.payment(b).batch_id),
            ("township", "示范镇", OWNER_TOWNSHIP), ("unit", "农业农村办", OWNER_UNIT),
            ("user", "农业农村办's clerk", "nyb_clerk"), ("user", "农业农村办's head", "nyb_head")):
        seeded.add(kind, label, value)
    return seeded


def _payment_at_the_unit_head(office: Office, seeded: Seeded, indicator_code: str) -> tuple[int, int]:
    """Payment A and what its unit head did on it: an attachment, a copy, a proxy, a notification."""
    a = office.start("nyb_clerk", "payment", payment_data(indicator_code, "300.00"))["id"]
    head = office.as_user("nyb_head")
    task = office.task_for("nyb_head", a)["id"]
    upload = head.post(f"/api/v1/tasks/{task}/attachments", content_type="multipart/form-data",
                       data={"file": _file("发票说明.txt", "发票扫描件说明")})
    assert upload.status_code == 201, upload.get_json()
    cc = head.post(f"/api/v1/tasks/{task}/cc", json={"to": ["czs_clerk"], "comment": "请知悉"})
    assert cc.status_code == 200, cc.get_json()
    urge = office.as_user("nyb_clerk").post(f"/api/v1/instances/{a}/urge", json={"comment": "请尽快审核"})
    assert urge.status_code == 200, urge.get_json()
    now = clock.now()
    proxy = head.post("/api/v1/proxies", json={"proxy": "zfb_head", "starts_at": (now + timedelta(days=1)).isoformat(),
                                               "ends_at": (now + timedelta(days=3)).isoformat()})
    assert proxy.status_code == 201, proxy.get_json()
    session = office.session
    seeded.add("attachment", "the unit head's upload", upload.get_json()["id"])
    seeded.add("copy", "copied to czs_clerk", session.scalar(select(CarbonCopy.id).where(CarbonCopy.instance_id == a)))
    seeded.add("proxy", "nyb_head's proxy", proxy.get_json()["id"])
    seeded.add("notification", "nyb_head's: urged", session.scalar(select(Notification.id).where(
        Notification.user_id == _uid(session, "nyb_head"), Notification.instance_id == a).limit(1)))
    return a, task


def _done_by(session, instance_id: int, username: str) -> int:
    return session.scalar(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.completed_by_id == _uid(session, username)))


def _uid(session, username: str) -> int:
    return session.scalar(select(User.id).where(User.username == username))


# --- filling URL variables ---------------------------------------------------------------------------------

# The kind of object a URL variable names, by the variable's name: seed_nyb seeds each kind.
FILLERS = {
    "attachment_id": "attachment", "batch_id": "batch", "copy_id": "copy", "indicator_id": "indicator",
    "instance_id": "instance", "notification_id": "notification", "payment_id": "payment",
    "project_id": "project", "proxy_id": "proxy", "task_id": "task", "username": "user",
}
# Variables whose name says too little (a <code> of what?): the kind per endpoint.
BY_ENDPOINT = {
    ("township_holidays.list_holidays", "code"): "township",
    ("township_holidays.import_township_holidays", "code"): "township",
    ("township_settings.get_settings", "code"): "township",
    ("township_settings.put_settings", "code"): "township",
}
# Variables that name nothing a unit or a township owns: nothing to hide, nothing to compare.
NOT_OWNED = {
    ("refdata.list_codes", "kind"): "the national code tables (支出功能分类…) are the same for every user",
    ("web.start_form", "process_id"): "process definitions are shared by every township; the role decides who "
                                      "starts one, not the unit",
    ("web.start_submit", "process_id"): "as web.start_form",
    ("web.static", "filename"): "the public CSS and scripts",
    ("web.pick_codes", "kind"): "the code pickers list the national code tables, as refdata.list_codes",
}

# Query parameters of the API's reads that name an object: (the seeded kind, other parameters it needs).
QUERY_FILLERS = {
    "org": [("unit", {"level": "unit"}), ("township", {"level": "township"})],
    "township": [("township", {})],
    "project": [("project_code", {})],
    "code": [("indicator_code", {})],
    "user": [("user", {})],
}
# Query parameters that name nothing anyone owns (filters, pages, shared process ids and role codes).
NOT_CODES = {
    "all_versions", "process", "status", "date_from", "date_to", "amount_min", "amount_max", "q", "sort", "page",
    "per_page", "view", "unread", "leaf", "include_inactive", "limit", "year", "level", "role", "due_soon_hours",
    "period_from", "period_to", "overdue",
}

# Routes whose answer may differ from a missing object's, for whom ("same_township": another unit of
# 示范镇; "other_township": 青山镇), and why. Anything not listed must answer as for nothing.
ALLOWED = {
    ("township_holidays.list_holidays", "same_township"):
        "the township's own calendar: everyone working in 示范镇 reads it (their deadlines count in it)",
    ("township_holidays.import_township_holidays", "same_township"):
        "403 to a member of 示范镇 who is not its admin: they know their own township exists",
    ("township_settings.get_settings", "same_township"):
        "403 to a member of 示范镇 outside the roles that read settings: they know their own township exists",
    ("township_settings.put_settings", "same_township"): "as township_settings.get_settings",
    ("ledger.get_balances", "same_township"):
        "?level=township&org=SFZ: 403 to a member of 示范镇 without a township-wide role (their own township)",
    ("ledger.get_trial_balance", "same_township"):
        "?township=SFZ: 403 to a member of 示范镇 outside the finance office (their own township)",
    ("bank.batch_file", "same_township"):
        "a batch is the township treasury's, holding payments of many units: its staff are told 403 (only the "
        "treasury downloads it), which says no more than that 示范镇 pays through the bank; other townships get 404",
}


def kind_of(endpoint: str, variable: str) -> str | None:
    """The seeded kind that fills this variable; None for NOT_OWNED; KeyError when nobody taught it."""
    if (endpoint, variable) in NOT_OWNED:
        return None
    if (endpoint, variable) in BY_ENDPOINT:
        return BY_ENDPOINT[endpoint, variable]
    return FILLERS[variable]


def unfilled_query(names) -> list[str]:
    return [name for name in names if name not in QUERY_FILLERS and name not in NOT_CODES]


def unfilled(app) -> list[tuple[str, str]]:
    """(endpoint, variable) of every URL variable the matrix cannot fill."""
    missing = []
    for rule in app.url_map.iter_rules():
        for variable in sorted(rule.arguments):
            known = (rule.endpoint, variable) in NOT_OWNED or (rule.endpoint, variable) in BY_ENDPOINT
            if not known and variable not in FILLERS:
                missing.append((rule.endpoint, variable))
    return sorted(missing)


# --- plausible writes: a body that would pass validation, so the refusal comes from the scope check ----------

def _file(name: str, text: str) -> tuple:
    return (BytesIO(text.encode("utf-8")), name)


API_BODIES = {
    "tasks.complete": {"json": {"decision": "approve", "comment": "同意", "data": {}}},
    "operations.post_return": {"json": {"target": "apply", "comment": "请补充发票"}},
    "operations.post_transfer": {"json": {"to": "cz_reviewer2", "comment": "请代为审核"}},
    "operations.post_delegate": {"json": {"to": "cz_reviewer2", "comment": "请提意见"}},
    "operations.post_signers": {"json": {"signers": ["cz_head"], "position": "before", "mode": "sequential"}},
    "operations.post_remove_signer": {"json": {"comment": "不必加签"}},
    "operations.post_withdraw_approval": {"json": {"comment": "撤回重审"}},
    "operations.post_withdraw_instance": {"json": {"comment": "撤回申请"}},
    "copies.cc": {"json": {"to": ["duban"], "comment": "请知悉"}},
    "copies.urge": {"json": {"comment": "请尽快"}},
    "attachments.comment": {"json": {"comment": "请补充发票"}},
    "attachments.upload": {"data": {"file": None}, "content_type": "multipart/form-data"},
    "township_settings.put_settings": {"json": {"tiers": {"t1": "900"}}},
    "township_holidays.import_township_holidays": {"data": {"file": None}, "content_type": "multipart/form-data"},
}
UPLOADS = {"attachments.upload": ("说明.txt", "发票已补"),
           "township_holidays.import_township_holidays": ("节假日.csv", "日期,类型,名称\n2026-05-06,休息,镇庆\n")}

PAGE_FORMS = {
    "web.complete": {"decision": "approve", "comment": "同意"},
    "web.return_": {"target": "apply", "comment": "请补充发票"},
    "web.transfer": {"to": "cz_reviewer2", "comment": "请代为审核"},
    "web.delegate": {"to": "cz_reviewer2", "comment": "请提意见"},
    "web.signers": {"signers": "cz_head", "position": "before", "mode": "sequential"},
    "web.remove_signer_": {"comment": "不必加签"},
    "web.withdraw": {"comment": "撤回重审"},
    "web.withdraw_request": {"comment": "撤回申请"},
    "web.urge": {"comment": "请尽快"},
    "web.cc": {"to": "duban", "comment": "请知悉"},
    "web.comment": {"comment": "请补充发票"},
    "web.upload": {"file": None},
}
PAGE_UPLOADS = {"web.upload": ("说明.txt", "发票已补")}


def plausible_api_body(endpoint: str) -> dict | None:
    """Request kwargs for a write that passes validation (a fresh upload each call), or None."""
    body = API_BODIES.get(endpoint)
    if body is None:
        return None
    if endpoint in UPLOADS:
        return {**body, "data": {"file": _file(*UPLOADS[endpoint])}}
    return body


def plausible_form(endpoint: str) -> dict | None:
    form = PAGE_FORMS.get(endpoint)
    if form is None:
        return None
    if endpoint in PAGE_UPLOADS:
        return {**form, "file": _file(*PAGE_UPLOADS[endpoint])}
    return form


# --- codes in application forms ----------------------------------------------------------------------------

# Fields of an application form that name an object by its code, and the seeded kind that fills them.
FORM_CODES = {"indicator_code": "indicator_code", "from_indicator": "indicator_code",
              "to_indicator": "indicator_code", "project_code": "project_code"}
# Fields that hold a code of the national code tables: nothing a unit owns.
SHARED_FORM_CODES = {"func_code", "econ_dept_code", "econ_gov_code", "fund_nature_code", "category_code"}
# Codes in the right shape that name nothing (a form's pattern must not refuse them before the lookup).
MISSING_FORM_CODES = {"indicator_code": "SFZ2026ZB99999999", "project_code": "SFZ26NYBT999999999"}
# Clerks of another unit and township: only a clerk may apply (the heads are refused before any lookup).
APPLICANTS = ("swb_clerk", "qs_clerk")


def looks_like_a_code(name: str) -> bool:
    return name.endswith(("_code", "_indicator", "_id")) or name in {"indicator", "project", "org", "unit"}


# For each process whose application names objects: valid applications apart from those codes, which
# `value(field)` fills. Every code field of the form must be used by one of them.
APPLICATIONS = {
    "payment": [lambda value: payment_data(value("indicator_code"), "100.00", project_code=value("project_code"))],
    "fund_plan": [lambda value: {"title": "三月用款计划", "month": "2026-03",
                                 "lines": [{"indicator_code": value("indicator_code"), "amount": money("100.00")}]}],
    "budget_declaration": [lambda value: {"title": "2026年度预算申报", "fiscal_year": 2026,
                                          "lines": [line(value("project_code"), "100.00")]}],
    "budget_adjustment": [
        lambda value: {"title": "调剂维修经费", "kind": "reallocation", "reason": "年中调剂",
                       "lines": [{"from_indicator": value("from_indicator"), "to_indicator": value("to_indicator"),
                                  "amount": money("100.00")}]},
        lambda value: {"title": "追加维修经费", "kind": "adjustment", "reason": "年中追加",
                       "lines": [{"direction": "increase", "project_code": value("project_code"), "fiscal_year": 2026,
                                  "func_code": "2130199", "econ_dept_code": "30213", "fund_nature_code": "111",
                                  "amount": money("100.00")}]},
    ],
}


def form_code_fields(schema: dict, prefix: str = "") -> list[str]:
    """Paths ("lines[].indicator_code") of the form's fields that look like codes."""
    found = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
            found += form_code_fields(prop["items"], f"{prefix}{name}[].")
        elif prop.get("type") == "object":
            found += form_code_fields(prop, f"{prefix}{name}.")
        elif looks_like_a_code(name):
            found.append(prefix + name)
    return found
