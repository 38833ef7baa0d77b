"""抄送 from a task, 已阅 on a copy, and 催办 on a request: the ways to bring a request to someone's eyes.

The 抄送 inbox itself is `GET /api/v1/tasks?view=cc`.
"""
from flask import current_app

from app.api import Blueprint
from app.api.schemas import CcRequest, CcResponse, CopyReadResponse, UrgeRequest, UrgeResponse
from app.approvals.copies import cc_from_task, mark_copy_read
from app.approvals.urge import urge_instance
from app.auth.request import load_user
from app.inbox.present import copy_dict, user_ref
from app.runtime import deps

bp = Blueprint("copies", __name__, url_prefix="/api/v1", description="抄送、已阅与催办")


@bp.post("/tasks/<int:task_id>/cc")
@bp.arguments(CcRequest)
@bp.response(200, CcResponse)
@bp.errors(400, 401, 403, 404, 409, 413)
def cc(body, task_id):
    """抄送：本环节的办理人（或已办理过它的人）把申请抄送给本镇的同事。

    被抄送人收到通知，可在“抄送我的”（GET /api/v1/tasks?view=cc）中查看并阅读该申请。
    已收到过本申请抄送的人会被略过（already_copied）。
    """
    result = cc_from_task(deps(), load_user(), task_id, body["to"], body.get("comment"))
    return {"instance_id": result.instance.id, "task_id": result.task.id,
            "copied": [user_ref(u) for u in result.copied], "already_copied": result.already}


@bp.post("/cc/<int:copy_id>/read")
@bp.response(200, CopyReadResponse)
@bp.errors(400, 401, 404)
def read_copy(copy_id):
    """已阅：把一条抄送给我的记录标为已阅（重复调用不改变已阅时间）。"""
    copy = mark_copy_read(deps(), load_user(), copy_id)
    return {**copy_dict(copy), "instance_id": copy.instance_id}


@bp.post("/instances/<int:instance_id>/urge")
@bp.arguments(UrgeRequest)
@bp.response(200, UrgeResponse)
@bp.errors(400, 401, 403, 404, 409, 413, 429)
def urge(body, instance_id):
    """催办：通知当前各环节的办理人（组任务未认领时通知全部候选人）。

    申请人和督办等监督角色可以催办；同一人对同一申请在间隔内只能催办一次（429，带 Retry-After）。
    """
    result = urge_instance(deps(), load_user(), instance_id, body.get("comment"),
                           interval=current_app.config["URGE_INTERVAL"])
    return {"instance_id": result.instance.id, "notified": [user_ref(u) for u in result.notified], "at": result.at}
