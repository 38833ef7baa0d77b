"""GET /start (what the user may start), GET/POST /start/<process_id> (the application form)."""
from dataclasses import dataclass

from flask import current_app, flash, redirect, request, url_for

from app.approvals.errors import Forbidden, InvalidInput, TooLarge
from app.approvals.instances import application_form, deployed_for_start, start_instance
from app.auth.request import load_user
from app.extensions import db
from app.inbox.assignment import orgs_of_role
from app.models import ROLE_NAMES, Org, ProcessDefinition, User
from app.processes.definitions import latest_definitions
from app.processes.forms import coerce_form_strings
from app.runtime import deps
from app.web import bp
from app.web.forms import build_fields, editing_only, posted_values, split_errors
from app.web.render import page


@dataclass(frozen=True)
class Application:
    definition: ProcessDefinition
    form: dict
    orgs: list[Org]


def application_of(user: User, process_id: str) -> Application:
    """The latest version's application form, and the orgs the user may apply for."""
    deployed = deployed_for_start(deps(), process_id)
    definition = db.session.get(ProcessDefinition, deployed.definition_id)
    orgs = orgs_of_role(user, definition.starter_role)
    if not orgs:
        role = ROLE_NAMES.get(definition.starter_role, definition.starter_role)
        raise Forbidden(f"只有“{role}”可以发起此流程")
    return Application(definition, application_form(deployed), sorted(orgs, key=lambda o: o.code))


@bp.get("/start")
def start_list():
    user = load_user()
    held = {g.role for g in user.grants}
    startable = [d for d in latest_definitions(db.session) if d.starter_role in held]
    return page("start_list.html", definitions=startable)


def _start_page(application: Application, *, submitted=None, details=None, message=None, status=200):
    form = application.form
    names = set((form.get("properties") or {}).keys()) | {"org", "comment", "attachments"}
    by_field, other = split_errors(details or {}, names)
    fields = build_fields(form, submitted, by_field, submitted=submitted is not None)
    return page("start_form.html", status, definition=application.definition, form=form, fields=fields,
                orgs=application.orgs, errors=by_field, other_errors=other, message=message,
                org=(submitted or {}).get("org", ""), comment=(submitted or {}).get("comment", ""))


@bp.get("/start/<process_id>")
def start_form(process_id):
    return _start_page(application_of(load_user(), process_id))


@bp.post("/start/<process_id>")
def start_submit(process_id):
    user = load_user()
    application = application_of(user, process_id)
    posted = posted_values(application.form, request.form)
    if editing_only(request.form):  # 添加一行 / 删除 without script: the same form again, one row more or less
        return _start_page(application, submitted=posted)
    data = coerce_form_strings(application.form, posted)
    org = request.form.get("org") or None
    comment = (request.form.get("comment") or "").strip() or None
    try:
        instance = start_instance(deps(), user, process_id, data, org, comment, _posted_files(),
                                  current_app.config["ATTACHMENT_DIR"], current_app.config["MAX_ATTACHMENT_BYTES"])
    except (InvalidInput, TooLarge) as exc:
        return _start_page(application, submitted=posted, details=exc.details, message=exc.message,
                           status=413 if isinstance(exc, TooLarge) else 400)
    flash(f"申请已提交，业务编号 {instance.business_key}", "success")
    return redirect(url_for("web.instance", instance_id=instance.id))


def _posted_files() -> list[tuple[str | None, bytes]]:
    """The files chosen in 附件 (an empty input posts one nameless part), each read to one byte over the cap."""
    max_bytes = current_app.config["MAX_ATTACHMENT_BYTES"]
    return [(f.filename, f.stream.read(max_bytes + 1)) for f in request.files.getlist("attachments") if f.filename]
