"""In-app notifications, written in the same transaction as the event they tell about.

Each also goes out by the enabled channels (log, email, SMS): app/outbox writes those messages in the
same transaction and delivers them after it commits, by the channels the addressee chose
(通知设置, app/approvals/notifications.py).

Besides the single-purpose notices (催办, 抄送, 加签…), the flow itself tells people what concerns
them: a task arrived (each candidate, a proxy too, or each open member of a multi-approver step), the
request came back (退回: whoever it returns to, and the applicant), and how it ended (通过, 未通过,
已支付, 银行退票). Two rules hold for these:
- whoever just acted is not told of their own action;
- one notice per person and request per event (transaction): when one action both opens a task and
  returns it, or both ends a payment and pays it, the person gets the one that says most (RANK), so
  the bank's "paid" reads 已支付, not 已通过 as well.
The rows are only added to the session: the step's own flush inserts them, many in one INSERT.
"""
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.inbox.assignment import resolve_candidates
from app.models import Fallback, HumanTask, Notification, ProcessInstance, Role, TaskState
from app.outbox.writing import queue_notifications

CHINA = ZoneInfo("Asia/Shanghai")

# Every kind of notice, in the order the settings page lists them, with what a person calls it.
KINDS = {
    "task": "新待办到达",
    "returned": "申请被退回",
    "approved": "申请审批通过",
    "rejected": "申请未通过",
    "paid": "款项已支付",
    "bank_returned": "银行退票",
    "urge": "催办",
    "remind": "办理提醒",
    "escalate": "超时升级",
    "cc": "抄送",
    "empty_approver": "无人可办理",
}
# The flow's notices; a higher rank says more, and replaces a lower one of the same event.
RANK = {"task": 1, "approved": 2, "rejected": 2, "returned": 3, "paid": 4, "bank_returned": 4}
THIS_EVENT = "township_flow_notices"


def notify(session: Session, user_ids, *, kind: str, title: str, now: datetime, body: str | None = None,
           instance_id: int | None = None, task_id: int | None = None, task: HumanTask | None = None,
           actor_id: int | None = None) -> list[Notification]:
    """Add one notification per distinct user but the actor; the caller's commit sends them with its event.

    `task` is for a task opened in this very step (no id yet); `task_id` for one that has one.
    """
    rows = []
    for user_id in dict.fromkeys(u for u in user_ids if u is not None and u != actor_id):
        if kind in RANK and instance_id is not None and _told_already(session, user_id, instance_id, kind,
                                                                       title, body, task, task_id):
            continue
        row = Notification(user_id=user_id, kind=kind, title=title[:200], body=body, instance_id=instance_id,
                           task_id=task_id, created_at=now)
        if task is not None:
            row.task = task
        if kind in RANK and instance_id is not None:
            session.info.setdefault(THIS_EVENT, {})[user_id, instance_id] = row
        rows.append(row)
    session.add_all(rows)
    queue_notifications(session, rows)
    return rows


def _told_already(session: Session, user_id: int, instance_id: int, kind: str, title: str, body: str | None,
                  task: HumanTask | None, task_id: int | None) -> bool:
    """This event already told the person about this request: keep the notice that says more."""
    earlier = session.info.get(THIS_EVENT, {}).get((user_id, instance_id))
    if earlier is None or earlier not in session:  # none, or one a rolled-back savepoint dropped
        return False
    if RANK[kind] > RANK[earlier.kind]:
        earlier.kind, earlier.title, earlier.body = kind, title[:200], body
        if task is not None:
            earlier.task = task
        elif task_id is not None:
            earlier.task_id = task_id
    return True


@event.listens_for(Session, "after_commit")
def _event_over(session: Session) -> None:
    session.info.pop(THIS_EVENT, None)


@event.listens_for(Session, "after_soft_rollback")
def _event_undone(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(THIS_EVENT, None)


# --- the flow's notices ----------------------------------------------------------------------------------

def _desks(session: Session, task: HumanTask) -> list[HumanTask]:
    """The task itself, or for a multi-approver step its members open now (added to the session with it)."""
    if not task.multi:
        return [task]
    return [m for m in session.new
            if isinstance(m, HumanTask) and m.parent is task and m.state == TaskState.READY]


def _due(task: HumanTask) -> str:
    return f"，办理期限 {task.due_at.astimezone(CHINA):%m-%d %H:%M}" if task.due_at else ""


def tasks_arrived(session: Session, instance: ProcessInstance, tasks: list[HumanTask], *, now: datetime,
                  actor_id: int | None) -> None:
    """每个新待办: its candidates (a proxy standing in too) or each open member hear of it, with a link."""
    for task in tasks:
        for desk in _desks(session, task):
            notify(session, [c.user_id for c in desk.candidates], kind="task", now=now, actor_id=actor_id,
                   title=f"新待办：{instance.title}", body=f"“{task.name}”待您办理{_due(task)}。",
                   instance_id=instance.id, task=desk)


def request_returned(session: Session, instance: ProcessInstance, reopened: HumanTask, *, by_id: int, by_name: str,
                     comment: str, now: datetime) -> None:
    """退回: whoever the request returns to (their reopened task) and the applicant (the request)."""
    title, body = f"退回：{instance.title}", f"{by_name}退回到“{reopened.name}”：{comment}"
    for desk in _desks(session, reopened):
        notify(session, [c.user_id for c in desk.candidates], kind="returned", title=title, body=body, now=now,
               instance_id=instance.id, task=desk, actor_id=by_id)
    notify(session, [instance.initiator_id], kind="returned", title=title, body=body, now=now,
           instance_id=instance.id, actor_id=by_id)


def request_finished(session: Session, instance: ProcessInstance, status: str, *, now: datetime,
                     actor_id: int | None) -> None:
    """The applicant hears how the request ended: approved or not (a withdrawal is their own doing)."""
    said = {"approved": ("已通过", "申请已审批通过。"), "rejected": ("未通过", "申请未获通过，审批意见见申请详情。")}
    if status not in said:
        return
    word, body = said[status]
    notify(session, [instance.initiator_id], kind=str(status), title=f"{word}：{instance.title}", body=body,
           now=now, instance_id=instance.id, actor_id=actor_id)


def payment_paid(session: Session, instance: ProcessInstance, *, amount, bank_ref: str, now: datetime) -> None:
    notify(session, [instance.initiator_id], kind="paid", title=f"已支付：{instance.title}", now=now,
           body=f"银行已支付 {amount} 元（业务编号 {bank_ref}）。", instance_id=instance.id)


def payment_returned(session: Session, instance: ProcessInstance, *, bank_ref: str, reason: str | None,
                     now: datetime) -> None:
    """银行退票: the applicant, and the treasury (国库支付) of the request's township, who must see to it."""
    found = resolve_candidates(session, Role.TREASURY, instance.org_id)
    treasury = found.user_ids if found.fallback != Fallback.ADMIN else ()  # the admin does not pay
    notify(session, [instance.initiator_id, *treasury], kind="bank_returned", title=f"银行退票：{instance.title}",
           body=f"银行退回了支付（业务编号 {bank_ref}）：{reason or '未说明原因'}。", now=now,
           instance_id=instance.id)
