"""Process instances: start one, read one with its tasks and history, list what you may see."""
from app.api import Blueprint
from app.api.schemas import InstanceDetail, InstancePage, ListArgs, StartInstanceRequest
from app.approvals.instances import start_instance
from app.auth.request import load_user
from app.extensions import db
from app.inbox import queries
from app.inbox.detail import instance_detail
from app.inbox.present import instance_summary
from app.runtime import deps

bp = Blueprint("instances", __name__, url_prefix="/api/v1/instances", description="流程实例（申请）")


def inbox_filter(args: dict) -> queries.InboxFilter:
    return queries.InboxFilter(
        process=args.get("process"), status=args.get("status"), date_from=args.get("date_from"),
        date_to=args.get("date_to"), amount_min=args.get("amount_min"), amount_max=args.get("amount_max"),
        text=args.get("q"), sort=args["sort"], page=args["page"], per_page=args["per_page"],
    )


@bp.post("")
@bp.arguments(StartInstanceRequest)
@bp.response(201, InstanceDetail)
@bp.errors(400, 401, 403, 404, 413, 422)
def start(body):
    """发起申请：在流程最新版本上启动，并以 data 完成申请环节。默认以你有申请角色的单位发起。"""
    user = load_user()
    instance = start_instance(deps(), user, body["process_id"], body["data"], body.get("org"), body.get("comment"))
    return instance_detail(db.session, user, instance.id)


@bp.get("")
@bp.arguments(ListArgs, location="query")
@bp.response(200, InstancePage)
@bp.errors(400, 401)
def list_instances(args):
    """你能看到的申请：自己发起的、经手的，以及你有监督角色的单位下的。"""
    page = queries.visible(db.session, load_user(), inbox_filter(args))
    return {"items": [instance_summary(i) for i in page.items], "total": page.total, "page": page.page,
            "per_page": page.per_page}


@bp.get("/<int:instance_id>")
@bp.response(200, InstanceDetail)
@bp.errors(401, 404)
def get_instance(instance_id):
    """一个申请：状态、当前环节、完整历史。看不到的申请一律 404。"""
    return instance_detail(db.session, load_user(), instance_id)
