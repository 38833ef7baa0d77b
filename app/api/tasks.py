"""Tasks: the inbox views, one task with its form, and claim / unclaim / complete; batch-complete (批量同意)."""
from dataclasses import replace
from http import HTTPStatus

from marshmallow import Schema, fields, validate

from app import clock
from app.api import Blueprint
from app.api.errors import STATUS_OF
from app.api.instances import inbox_filter
from app.api.schemas import (
    CompleteTaskRequest,
    InboxPage,
    InstanceSummary,
    TaskBrief,
    TaskDetail,
    TaskListArgs,
)
from app.approvals.batch import MAX_BATCH, NotBatchable, approve_batch
from app.approvals.errors import InvalidInput, StepFailed
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


class TaskListQuery(TaskListArgs):
    overdue = fields.Boolean(load_default=False, metadata={
        "description": "只看逾期的：待办为已过办理期限的，已办为逾期办理的，我发起的、抄送我的为卡在逾期环节的"})


@bp.get("")
@bp.arguments(TaskListQuery, location="query")
@bp.response(200, InboxPage)
@bp.errors(400, 401)
def list_tasks(args):
    """收件箱。view=todo 待办（我可办理的）、done 已办（我办理过的）、started 我发起的、cc 抄送我的。"""
    view = args["view"]
    f = inbox_filter(args)
    if args["overdue"]:
        f = replace(f, overdue_at=clock.now())
    page = getattr(queries, view)(db.session, load_user(), f)
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


MAX_ID = 2**63 - 1  # a task id is a bigint: anything larger names no task and must not reach the database


class BatchCompleteRequest(Schema):
    task_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID)), required=True,
                           validate=validate.Length(min=1, max=MAX_BATCH),
                           metadata={"description": f"要同意的任务，1 到 {MAX_BATCH} 个；重复的只办理一次"})
    decision = fields.String(required=True, validate=validate.OneOf(["approve"]),
                             metadata={"description": "只能是 approve（同意）：不同意须逐项办理并写明理由"})
    comment = fields.String(validate=validate.Length(max=2000), allow_none=True)


class BatchError(Schema):
    error = fields.String(metadata={"description": "not_found、conflict、forbidden、not_batchable（须填写表单，"
                                                   "请逐项办理）、validation_error、step_failed"})
    message = fields.String()
    details = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class BatchItem(Schema):
    task_id = fields.Integer()
    ok = fields.Boolean(metadata={"description": "已同意；false 时 error 说明原因，其他任务不受影响"})
    instance_id = fields.Integer(allow_none=True)
    title = fields.String(allow_none=True, metadata={"description": "申请事由；看不到的任务为空"})
    step = fields.String(allow_none=True)
    error = fields.Nested(BatchError, allow_none=True)


class BatchCompleteResponse(Schema):
    approved = fields.Integer(metadata={"description": "同意了几项"})
    failed = fields.Integer(metadata={"description": "未能处理几项"})
    results = fields.List(fields.Nested(BatchItem), metadata={"description": "每个任务的结果，按请求中的顺序"})


def _error_code(error) -> str:
    if isinstance(error, NotBatchable):
        return "not_batchable"
    if isinstance(error, InvalidInput):
        return "validation_error"
    if isinstance(error, StepFailed):
        return "step_failed"
    return HTTPStatus(STATUS_OF.get(type(error), 500)).name.lower()


def _batch_item(result) -> dict:
    error = None if result.ok else {"error": _error_code(result.error), "message": result.error.message,
                                     "details": result.error.details}
    return {"task_id": result.task_id, "ok": result.ok, "instance_id": result.instance_id, "title": result.title,
            "step": result.step, "error": error}


@bp.post("/batch-complete")
@bp.arguments(BatchCompleteRequest)
@bp.response(200, BatchCompleteResponse)
@bp.errors(400, 401, 413)
def batch_complete(body):
    """批量同意：逐个任务按单个同意办理，各自一个事务；某个任务失败不影响其他任务，结果逐项列出。

    只有表单除意见外无须填写的任务可以批量同意（申请环节、委派、需勾选确认或有必填项的环节须逐项办理）。
    """
    results = approve_batch(deps, load_user(), body["task_ids"], body.get("comment"))
    items = [_batch_item(r) for r in results]
    approved = sum(1 for r in results if r.ok)
    return {"approved": approved, "failed": len(results) - approved, "results": items}
