"""Tasks: the inbox views, one task with its form, and claim / unclaim / complete."""
from marshmallow import Schema, fields

from app.api import Blueprint
from app.api.instances import inbox_filter
from app.api.schemas import (
    CompleteTaskRequest,
    InboxPage,
    InstanceSummary,
    TaskBrief,
    TaskDetail,
    TaskListArgs,
)
from app.approvals.tasks import claim_task, complete_task, unclaim_task
from app.auth.request import load_user
from app.extensions import db
from app.inbox import queries
from app.inbox.detail import task_detail
from app.inbox.present import inbox_items, instance_summary, task_brief
from app.runtime import deps, runtime

bp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="待办、已办、我发起的；办理任务")


class CompletionResponse(Schema):
    task = fields.Nested(TaskBrief)
    instance = fields.Nested(InstanceSummary)
    next_tasks = fields.List(fields.Nested(TaskBrief), metadata={"description": "流程接下来停在的环节"})


@bp.get("")
@bp.arguments(TaskListArgs, location="query")
@bp.response(200, InboxPage)
@bp.errors(400, 401)
def list_tasks(args):
    """收件箱。view=todo 待办（我可办理的）、done 已办（我办理过的）、started 我发起的、cc 抄送我的。"""
    view = args["view"]
    page = getattr(queries, view)(db.session, load_user(), inbox_filter(args))
    return {"items": inbox_items(db.session, view, page), "total": page.total, "page": page.page,
            "per_page": page.per_page}


@bp.get("/<int:task_id>")
@bp.response(200, TaskDetail)
@bp.errors(401, 404)
def get_task(task_id):
    """一个任务：表单（JSON Schema）、流程数据，以及当前用户能做什么。"""
    rt = runtime()
    return task_detail(db.session, rt.engine, rt.catalog, load_user(), task_id)


@bp.post("/<int:task_id>/claim")
@bp.response(200, TaskBrief)
@bp.errors(400, 401, 403, 404, 409)
def claim(task_id):
    """认领一个组任务，其他候选人不再能办理。"""
    return task_brief(claim_task(deps(), load_user(), task_id))


@bp.post("/<int:task_id>/unclaim")
@bp.response(200, TaskBrief)
@bp.errors(400, 401, 403, 404, 409)
def unclaim(task_id):
    """放弃认领，任务回到候选人的待办中。"""
    return task_brief(unclaim_task(deps(), load_user(), task_id))


@bp.post("/<int:task_id>/complete")
@bp.arguments(CompleteTaskRequest)
@bp.response(200, CompletionResponse)
@bp.errors(400, 401, 403, 404, 409, 413, 422)
def complete(body, task_id):
    """办理任务：decision（approve 同意 / reject 不同意）、comment、表单 data。

    两人同时办理时只有一人成功，另一人得到 409。
    """
    task = complete_task(deps(), load_user(), task_id, decision=body.get("decision"),
                         comment=body.get("comment"), data=body["data"])
    instance = task.instance
    db.session.refresh(instance)
    next_tasks = queries.open_tasks_of(db.session, [instance.id])[instance.id]
    return {"task": task_brief(task), "instance": instance_summary(instance),
            "next_tasks": [task_brief(t) for t in next_tasks]}
