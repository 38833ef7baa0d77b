"""批量同意: a leader approves several tasks from the 待办 list at once.

Each task is still one single approval (app/approvals/tasks.py complete_task): locked, checked (who may
act, C17, the form), decided and recorded on its own, in its own transaction. So a task that fails
leaves the others done, and the result names each failure with its reason.

Only a task that needs nothing but the decision may go in a batch: a step whose form has no required
field and no box to confirm ("x-confirm"), a multi-approver member of such a step, or a signer. The
applicant's own step is a submission, and a delegate (委派) is asked for an opinion in words: neither
is batchable.
"""
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import exists, select

from app.approvals.deps import Deps
from app.approvals.errors import ApprovalError, InvalidInput, NotFound
from app.approvals.steps import MAX_COMMENT
from app.approvals.tasks import complete_task
from app.inbox.visibility import can_see_instance
from app.models import Decision, HumanTask, ProcessInstance, TaskCandidate, TaskKind, User
from app.processes.definitions import Deployed

log = logging.getLogger(__name__)

MAX_BATCH = 50
DECISION_FIELDS = frozenset({"decision", "comment"})
FORM_KINDS = (TaskKind.STEP, TaskKind.COUNTERSIGN)  # sub-tasks of other kinds have no form of their own


class NotBatchable(InvalidInput):
    """The task asks for more than a decision: it must be opened and handled on its own."""


@dataclass(frozen=True)
class BatchResult:
    """What became of one task of a batch; `title` and `step` only when the user may see the task."""

    task_id: int
    instance_id: int | None
    title: str | None
    step: str | None
    error: ApprovalError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        return self.title or f"任务 {self.task_id}"


def needs_only_decision(form: dict) -> bool:
    """The form asks for nothing beyond decision and comment: no required field, no box to confirm."""
    required = set(form.get("required") or ()) - DECISION_FIELDS
    confirms = any(isinstance(prop, dict) and prop.get("x-confirm") is True
                   for prop in (form.get("properties") or {}).values())
    return not required and not confirms


def batchable(deployed: Deployed, task) -> bool:
    """May this open task (a HumanTask, or a row with its kind, bpmn_process_id and bpmn_id) be approved in
    a batch (see the module docstring)?"""
    if task.kind == TaskKind.DELEGATE or deployed.is_applicant_step(task.bpmn_process_id, task.bpmn_id):
        return False
    if task.kind not in FORM_KINDS:
        return True
    return needs_only_decision(deployed.form(task.bpmn_process_id, task.bpmn_id))


def _read(deps: Deps, user: User, task_id: int):
    """The task's columns and its request's when the user may see them (else None: ids reveal nothing).

    Columns, not objects: a task loaded here would sit in the session ahead of the use case's locked read.
    """
    row = deps.session.execute(
        select(HumanTask.id, HumanTask.kind, HumanTask.bpmn_process_id, HumanTask.bpmn_id, HumanTask.name,
               HumanTask.assignee_id, HumanTask.completed_by_id, ProcessInstance.id.label("instance_id"),
               ProcessInstance.title, ProcessInstance.definition_id, ProcessInstance.called_definition_ids)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(HumanTask.id == task_id)
    ).one_or_none()
    if row is None:
        return None
    related = user.id in (row.assignee_id, row.completed_by_id) or deps.session.scalar(select(
        exists().where(TaskCandidate.task_id == row.id, TaskCandidate.user_id == user.id)))
    if not related and not can_see_instance(deps.session, user, row.instance_id):
        return None
    return row


def approve_one(deps: Deps, user: User, task_id: int, comment: str | None) -> BatchResult:
    """One task of a batch: refused when it needs more than a decision, else a single approval."""
    row = _read(deps, user, task_id)
    if row is None:
        return BatchResult(task_id, None, None, None, NotFound("任务不存在"))
    named = {"task_id": row.id, "instance_id": row.instance_id, "title": row.title, "step": row.name}
    deployed = deps.catalog.get(deps.session, row.definition_id, row.called_definition_ids or ())
    try:
        if not batchable(deployed, row):
            raise NotBatchable("此环节需要填写表单，不能批量同意，请打开任务逐项办理")
        complete_task(deps, user, task_id, decision=Decision.APPROVE, comment=comment, data={})
    except ApprovalError as exc:
        return BatchResult(**named, error=exc)
    except Exception:  # the tasks before are committed; say which one broke and go on
        log.exception("batch approval of task %s failed", task_id)
        return BatchResult(**named, error=ApprovalError("处理时出错，请打开任务重试"))
    return BatchResult(**named)


def approve_batch(make_deps: Callable[[], Deps], user: User, task_ids: list[int],
                  comment: str | None) -> list[BatchResult]:
    """Approve each task in turn, each in its own transaction with its own clock reading; in the order given,
    each task once."""
    unique = list(dict.fromkeys(task_ids))
    if not unique:
        raise InvalidInput("请先勾选要同意的待办", {"task_ids": ["至少选择一项"]})
    if len(unique) > MAX_BATCH:
        raise InvalidInput("一次最多批量同意 50 项", {"task_ids": [f"不能超过 {MAX_BATCH} 项"]})
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput("意见过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
    return [approve_one(make_deps(), user, task_id, comment) for task_id in unique]


def batchable_ids(session, catalog, tasks: list[HumanTask]) -> set[int]:
    """Which of these 待办 rows may be ticked for 批量同意 (the versions' forms are cached by the catalog)."""
    return {task.id for task in tasks
            if batchable(catalog.get(session, task.instance.definition_id,
                                     task.instance.called_definition_ids or ()), task)}
