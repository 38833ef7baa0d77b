"""Approval operations on tasks and instances: return, transfer, delegate, add/remove signer, withdraw.

Each is one use case in app/approvals (one transaction); every refusal uses the API's error shape.
"""
from marshmallow import Schema, fields, validate

from app.api import Blueprint
from app.api.schemas import InstanceDetail, InstanceSummary, TaskBrief, UserRef
from app.approvals.returns import return_targets, return_task
from app.approvals.signing import MODES, POSITIONS, add_signers, delegate_task, remove_signer
from app.approvals.transfer import transfer_task
from app.approvals.withdraw import withdraw_approval, withdraw_instance
from app.auth.request import load_user
from app.extensions import db
from app.inbox.detail import instance_detail
from app.inbox.present import instance_summary, task_brief, user_ref
from app.models import HumanTask, ProcessInstance, User
from app.runtime import deps

bp = Blueprint("operations", __name__, url_prefix="/api/v1", description="审批操作：退回、转办、委派、加签、减签、撤回")

Comment = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ReturnTargetOut(Schema):
    bpmn_id = fields.String()
    name = fields.String()
    done_by = fields.Nested(UserRef, allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    is_application = fields.Boolean(metadata={"description": "退回申请人"})


class ReturnRequest(Schema):
    target = fields.String(required=True,
                           validate=[validate.Length(min=1, error="请选择退回到的环节"), validate.Length(max=64)],
                           metadata={"description": "退回到的环节（return-targets 中的 bpmn_id）"})
    comment = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                            metadata={"description": "退回原因"})


class HandOverRequest(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "用户名"})
    comment = Comment


class AddSignersRequest(Schema):
    signers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True,
                          validate=validate.Length(min=1, max=10), metadata={"description": "加签人用户名"})
    position = fields.String(load_default="before", validate=validate.OneOf(POSITIONS), metadata={
        "description": "before 在我之前（先签，再回到我）；after 在我之后（我同意后再签）"})
    mode = fields.String(load_default="sequential", validate=validate.OneOf(MODES),
                         metadata={"description": "sequential 依次；parallel 同时"})
    comment = Comment


class OperationNote(Schema):
    comment = Comment


class TaskResult(Schema):
    task = fields.Nested(TaskBrief)
    instance = fields.Nested(InstanceSummary)


class TasksResult(Schema):
    tasks = fields.List(fields.Nested(TaskBrief))
    instance = fields.Nested(InstanceSummary)


def _result(task: HumanTask) -> dict:
    db.session.refresh(task)
    return {"task": task_brief(task), "instance": instance_summary(db.session.get(ProcessInstance, task.instance_id))}


@bp.get("/tasks/<int:task_id>/return-targets")
@bp.response(200, ReturnTargetOut(many=True))
@bp.errors(401, 403, 404, 409)
def get_return_targets(task_id):
    """可退回到的环节：本申请经过的各环节（最近一轮），以及申请人。"""
    targets = return_targets(deps(), load_user(), task_id)
    return [{"bpmn_id": t.bpmn_id, "name": t.name, "done_at": t.done_at, "is_application": t.is_application,
             "done_by": user_ref(db.session.get(User, t.done_by_id)) if t.done_by_id else None} for t in targets]


@bp.post("/tasks/<int:task_id>/return")
@bp.arguments(ReturnRequest)
@bp.response(200, TaskResult)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_return(body, task_id):
    """退回：退回申请人或已办理过的环节。被退回的环节生成新任务，带原填写内容；之后的任务、加签、定时器都取消。"""
    return _result(return_task(deps(), load_user(), task_id, body["target"], body["comment"]))


@bp.post("/tasks/<int:task_id>/transfer")
@bp.arguments(HandOverRequest)
@bp.response(200, TaskResult)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_transfer(body, task_id):
    """转办：把任务永久交给另一位可办理此环节的人（同角色）。督办、管理员可转办无人可办的任务。"""
    return _result(transfer_task(deps(), load_user(), task_id, body["to"], body.get("comment")))


@bp.post("/tasks/<int:task_id>/delegate")
@bp.arguments(HandOverRequest)
@bp.response(200, TaskResult)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_delegate(body, task_id):
    """委派：请他人提出意见，答复后任务回到自己手中再决定。返回被委派人的任务。"""
    return _result(delegate_task(deps(), load_user(), task_id, body["to"], body.get("comment")))


@bp.post("/tasks/<int:task_id>/signers")
@bp.arguments(AddSignersRequest)
@bp.response(200, TasksResult)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_signers(body, task_id):
    """加签：在我之前或之后加一人或多人，依次或同时。加签人不能是自己、申请人或审批过其他环节的人。"""
    rows = add_signers(deps(), load_user(), task_id, body["signers"], position=body["position"], mode=body["mode"],
                       comment=body.get("comment"))
    for row in rows:
        db.session.refresh(row)
    instance = db.session.get(ProcessInstance, rows[0].instance_id)
    return {"tasks": [task_brief(r) for r in rows], "instance": instance_summary(instance)}


@bp.post("/tasks/<int:task_id>/remove-signer")
@bp.arguments(OperationNote)
@bp.response(200, TaskResult)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_remove_signer(body, task_id):
    """减签：task_id 为尚未签署的加签人任务；由加签人或本环节审批人操作。"""
    return _result(remove_signer(deps(), load_user(), task_id, body.get("comment")))


@bp.post("/tasks/<int:task_id>/withdraw")
@bp.arguments(OperationNote)
@bp.response(200, TaskResult)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_withdraw_approval(body, task_id):
    """撤回审批：task_id 为我已同意的环节；下一环节尚无人处理时，该环节回到我手中。"""
    return _result(withdraw_approval(deps(), load_user(), task_id, body.get("comment")))


@bp.post("/instances/<int:instance_id>/withdraw")
@bp.arguments(OperationNote)
@bp.response(200, InstanceDetail)
@bp.errors(400, 401, 403, 404, 409, 413)
def post_withdraw_instance(body, instance_id):
    """撤回申请：申请人在第一位审批人处理之前撤回，申请结束，所占用的额度释放。"""
    user = load_user()
    withdraw_instance(deps(), user, instance_id, body.get("comment"))
    return instance_detail(db.session, user, instance_id)
