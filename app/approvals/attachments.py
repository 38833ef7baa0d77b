"""Comments and attachments on any task of a running request (issue 3, item 12).

Each is one transaction that locks the instance row like every other action on it, so an upload
serialises with the completion of the last step: it lands before the request finishes or gets 409.
The file is written to the content-addressed store before the row commits, so no row ever points
at missing bytes; a stored file whose row never committed is harmless (it is named by its content).
"""
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.approvals.access import Locked, lock_task
from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict, InvalidInput, NotFound, TooLarge
from app.approvals.steps import MAX_COMMENT, add_event
from app.budget.checks import recheck_invoices
from app.inbox.visibility import can_see_instance
from app.models import Attachment, EventType, HumanTask, InstanceEvent, InstanceStatus, ProcessInstance, User
from app.storage import AttachmentStore
from app.storage.filetypes import FileRefused, content_type_of, sanitize_filename

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


def _lock_for_note(session: Session, user: User, task_id: int) -> Locked:
    """Lock the task's instance; NotFound unless the user may see it, Conflict once it has finished."""
    locked = lock_task(session, task_id, user.id)
    task = locked.task
    related = locked.is_candidate or user.id in (task.assignee_id, task.completed_by_id)
    if not related and not can_see_instance(session, user, locked.instance.id):
        raise NotFound("任务不存在")
    if locked.instance.status != InstanceStatus.RUNNING:
        raise Conflict("流程已结束，不能再添加附件或意见")
    return locked


def _checked_file(filename: str | None, data: bytes, max_bytes: int) -> tuple[str, str]:
    """(sanitised name, content type), or TooLarge / InvalidInput naming the field `file`."""
    if len(data) > max_bytes:
        raise TooLarge("附件过大", {"file": [f"不能超过 {_size_text(max_bytes)}"]})
    try:
        name = sanitize_filename(filename)
        return name, content_type_of(name, data, max_bytes)
    except FileRefused as exc:
        raise InvalidInput("附件不符合要求", {"file": [str(exc)]}) from exc


def _size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} 字节"


def add_attachment(deps: Deps, user: User, task_id: int, filename: str | None, data: bytes, store_root: Path,
                   *, max_bytes: int = DEFAULT_MAX_BYTES) -> Attachment:
    """Attach a file to a task of a running request: checked, stored by SHA-256, recorded in history."""
    session = deps.session
    with transaction(session):
        locked = _lock_for_note(session, user, task_id)
        name, content_type = _checked_file(filename, data, max_bytes)
        sha256 = AttachmentStore(store_root).put(data)  # before the commit: a row never lacks its file
        attachment = Attachment(instance_id=locked.instance.id, task_id=locked.task.id, filename=name,
                                content_type=content_type, size=len(data), sha256=sha256,
                                uploaded_by_id=user.id, uploaded_at=deps.now)
        session.add(attachment)
        session.flush()  # the id goes into the history row
        _record(session, locked.instance, locked.task, attachment, deps.now)
        # a payment's C19 counts files: what later steps show must count this one too
        recheck_invoices(session, locked.instance.id, deps.now, f"attachment:{attachment.id}")
    return attachment


def _record(session: Session, instance: ProcessInstance, task: HumanTask, attachment: Attachment,
            now: datetime) -> None:
    add_event(session, instance, EventType.ATTACHMENT_ADDED, now, actor_id=attachment.uploaded_by_id, task=task,
              data={"attachment_id": attachment.id, "filename": attachment.filename, "sha256": attachment.sha256,
                    "size": attachment.size, "content_type": attachment.content_type})


def attach_at_start(session: Session, instance: ProcessInstance, user: User, files: Sequence[tuple[str | None, bytes]],
                    store_root: Path | None, now: datetime, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Attachment]:
    """The files sent with a new request, before its first step runs (so its first checks count them).

    Every file is checked before any is stored; a refused one raises InvalidInput on the field
    `attachments` and the caller's transaction starts nothing. The rows get their task in `link_to_step`.
    """
    try:
        checked = [(*_checked_file(name, data, max_bytes), data) for name, data in files]
    except (InvalidInput, TooLarge) as exc:  # the start form names the field `attachments`
        raise type(exc)(exc.message, {"attachments": exc.details["file"]}) from exc
    store = AttachmentStore(store_root) if checked else None
    attachments = [Attachment(instance_id=instance.id, filename=name, content_type=content_type, size=len(data),
                              sha256=store.put(data), uploaded_by_id=user.id, uploaded_at=now)
                   for name, content_type, data in checked]
    session.add_all(attachments)
    session.flush()
    return attachments


def link_to_step(session: Session, instance: ProcessInstance, task: HumanTask, attachments: list[Attachment],
                 now: datetime) -> None:
    """Hang the files sent with the request on the applicant's step, and record each in the history."""
    session.flush()  # the step's row gets its id
    for attachment in attachments:
        attachment.task_id = task.id
        _record(session, instance, task, attachment, now)


def add_comment(deps: Deps, user: User, task_id: int, text: str | None) -> InstanceEvent:
    """A comment on a task of a running request, kept in its history (1 to 2000 characters)."""
    session = deps.session
    with transaction(session):
        locked = _lock_for_note(session, user, task_id)
        text = (text or "").strip()
        if not text:
            raise InvalidInput("请填写意见", {"comment": ["不能为空"]})
        if len(text) > MAX_COMMENT:
            raise InvalidInput("意见过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
        event = add_event(session, locked.instance, EventType.COMMENT_ADDED, deps.now, actor_id=user.id,
                          task=locked.task, data={"comment": text})
    return event


def attachments_of(session: Session, user: User, instance_id: int) -> list[Attachment]:
    """A request's attachments, oldest first; NotFound when the user may not see the request."""
    if not can_see_instance(session, user, instance_id):
        raise NotFound("申请不存在")
    return list(session.scalars(
        select(Attachment).options(joinedload(Attachment.uploaded_by))
        .where(Attachment.instance_id == instance_id).order_by(Attachment.id)
    ))


def attachment_for(session: Session, user: User, attachment_id: int) -> Attachment:
    """One attachment, for whoever may see its request; NotFound for anyone else (ids reveal nothing)."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or not can_see_instance(session, user, attachment.instance_id):
        raise NotFound("附件不存在")
    return attachment
