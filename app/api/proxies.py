"""代理: set a proxy while away, list mine (as principal and as proxy), revoke one."""
from app import clock
from app.api import Blueprint
from app.api.schemas import ProxyLists, ProxyOut, ProxyRequest
from app.approvals.proxies import revoke_proxy, set_proxy
from app.auth.request import load_user
from app.extensions import db
from app.inbox.present import user_ref
from app.inbox.proxies import proxies_of, proxy_status
from app.models import Proxy
from app.runtime import deps

bp = Blueprint("proxies", __name__, url_prefix="/api/v1/proxies", description="代理人设置")


def proxy_dict(proxy: Proxy, now) -> dict:
    return {"id": proxy.id, "principal": user_ref(proxy.principal), "proxy": user_ref(proxy.proxy),
            "starts_at": proxy.starts_at, "ends_at": proxy.ends_at, "process_ids": proxy.process_ids,
            "reason": proxy.reason, "created_at": proxy.created_at, "revoked_at": proxy.revoked_at,
            "status": proxy_status(proxy, now)}


@bp.post("")
@bp.arguments(ProxyRequest)
@bp.response(201, ProxyOut)
@bp.errors(400, 401, 409, 413)
def create(body):
    """设置代理：在 [starts_at, ends_at) 内，新到我名下的任务由代理人办理（可限定流程）。

    期限最长 180 天，开始时间最早为一天前；同一时间只能有一位代理人，时间重叠的答 409。
    """
    d = deps()
    proxy = set_proxy(d, load_user(), body["proxy"], body["starts_at"], body["ends_at"],
                      body.get("process_ids"), body.get("reason"))
    return proxy_dict(proxy, d.now)


@bp.get("")
@bp.response(200, ProxyLists)
@bp.errors(401)
def list_proxies():
    """我设置的代理（as_principal）和我替别人代理的（as_proxy），开始时间最新在前。"""
    now = clock.now()
    mine, for_others = proxies_of(db.session, load_user())
    return {"as_principal": [proxy_dict(p, now) for p in mine], "as_proxy": [proxy_dict(p, now) for p in for_others]}


@bp.delete("/<int:proxy_id>")
@bp.response(200, ProxyOut)
@bp.errors(400, 401, 403, 404)
def revoke(proxy_id):
    """撤销代理（仅委托人）：立即失效；已撤销的再撤销不变。"""
    d = deps()
    return proxy_dict(revoke_proxy(d, load_user(), proxy_id), d.now)
