"""GET /proxies (set a proxy; mine as principal and as proxy, with their status), POST /proxies (set one),
POST /proxies/<id>/revoke. Times are typed and shown in Beijing time."""
from datetime import datetime, timedelta

from flask import flash, redirect, request, url_for

from app import clock
from app.approvals.proxies import revoke_proxy, set_proxy
from app.auth.request import load_user
from app.extensions import db
from app.inbox.proxies import proxies_of, proxy_status
from app.processes.definitions import latest_definitions
from app.runtime import deps
from app.web import bp
from app.web.errors import REFUSALS, refusal_status
from app.web.filters import LOCAL_TZ
from app.web.forms import Refusal, refusal
from app.web.render import page

FIELDS = ("proxy", "starts_at", "ends_at", "process_ids", "reason")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def local_input(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime(LOCAL_INPUT)


def parse_local(raw: str | None) -> datetime | None:
    """'2026-03-01T08:00' typed in Beijing time -> an aware datetime; None when empty or not a time."""
    try:
        moment = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)


def proxies_page(refused: Refusal | None = None, status: int = 200):
    user = load_user()
    now = clock.now()
    mine, for_others = proxies_of(db.session, user)
    definitions = latest_definitions(db.session)
    names = {d.process_id: d.name for d in definitions}

    def rows(proxies):
        return [{"proxy": p, "status": proxy_status(p, now),
                 "processes": [names.get(pid, pid) for pid in p.process_ids] if p.process_ids else None}
                for p in proxies]

    refused = refused or Refusal("", "")
    defaults = {"starts_at": local_input(now), "ends_at": local_input(now + timedelta(days=7))}
    return page("proxies.html", status, mine=rows(mine), for_others=rows(for_others), definitions=definitions,
                refused=refused, defaults=defaults)


@bp.get("/proxies")
def proxies():
    return proxies_page()


@bp.post("/proxies")
def set_proxy_():
    form = request.form
    starts_at, ends_at = parse_local(form.get("starts_at")), parse_local(form.get("ends_at"))
    process_ids = [p for p in form.getlist("process_ids") if p] or None
    try:
        made = set_proxy(deps(), load_user(), (form.get("proxy") or "").strip(), starts_at, ends_at,
                         process_ids, (form.get("reason") or "").strip() or None)
    except REFUSALS as exc:
        refused = refusal("set", exc, FIELDS, form, multi=("process_ids",))
        for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
            if value is None:  # the use case's message speaks of ISO 8601; the page asks for a time
                refused.errors[name] = ["请选择时间（北京时间）"]
        return proxies_page(refused, refusal_status(exc))
    flash(f"已设置代理：{made.proxy.display_name}，{local_input(made.starts_at).replace('T', ' ')} 至 "
          f"{local_input(made.ends_at).replace('T', ' ')}", "success")
    return redirect(url_for("web.proxies"))


@bp.post("/proxies/<int:proxy_id>/revoke")
def revoke_proxy_(proxy_id):
    try:
        revoked = revoke_proxy(deps(), load_user(), proxy_id)
    except REFUSALS as exc:
        return proxies_page(refusal("revoke", exc, ()), refusal_status(exc))
    flash(f"已撤销 {revoked.proxy.display_name} 的代理", "success")
    return redirect(url_for("web.proxies"))
