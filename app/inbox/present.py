"""Plain dicts for what the inbox shows; the API's schemas and the pages' templates both read these."""
from sqlalchemy.orm import Session

from app.inbox.queries import Page, open_tasks_of
from app.models import ROLE_NAMES, CarbonCopy, HumanTask, InstanceEvent, Org, ProcessInstance, User


def user_ref(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def org_ref(org: Org | None) -> dict | None:
    return {"code": org.code, "name": org.name} if org else None


def instance_summary(instance: ProcessInstance) -> dict:
    return {
        "id": instance.id,
        "business_key": instance.business_key,
        "process_id": instance.process_id,
        "process_name": instance.definition.name,
        "version": instance.definition.version,
        "title": instance.title,
        "amount": instance.amount,
        "status": instance.status,
        "org": org_ref(instance.org),
        "initiator": user_ref(instance.initiator),
        "created_at": instance.created_at,
        "updated_at": instance.updated_at,
        "completed_at": instance.completed_at,
    }


def acting_name(actor: User | None, principal: User | None) -> str | None:
    """How every page and printout names who acted: "张三（代李四）" when acting as a proxy."""
    if actor is None:
        return None
    return f"{actor.display_name}（代{principal.display_name}）" if principal else actor.display_name


def task_brief(task: HumanTask) -> dict:
    return {
        "id": task.id,
        "instance_id": task.instance_id,
        "kind": task.kind,
        "parent_id": task.parent_id,
        "seq": task.seq,
        "bpmn_id": task.bpmn_id,
        "name": task.name,
        "role": task.role,
        "role_name": ROLE_NAMES.get(task.role) if task.role else None,
        "state": task.state,
        "waiting_for": task.waiting_for,
        "multi": task.multi,
        "note": task.note,
        "fallback": task.fallback,
        "assignee": user_ref(task.assignee),
        "added_by": user_ref(task.added_by) if task.added_by_id else None,
        "created_at": task.created_at,
        "due_at": task.due_at,
        "remind_count": task.remind_count,
        "escalation_level": task.escalation_level,
        "escalated_to_role": task.escalated_to_role,
        "claimed_at": task.claimed_at,
        "completed_at": task.completed_at,
        "completed_by": user_ref(task.completed_by),
        "on_behalf_of": user_ref(task.on_behalf_of) if task.on_behalf_of_id else None,
        "completed_by_name": acting_name(task.completed_by, task.on_behalf_of if task.on_behalf_of_id else None),
        "decision": task.decision,
        "comment": task.comment,
    }


def event_dict(event: InstanceEvent) -> dict:
    return {
        "seq": event.seq,
        "type": event.type,
        "at": event.at,
        "actor": user_ref(event.actor),
        "on_behalf_of": user_ref(event.on_behalf_of),
        "actor_name": acting_name(event.actor, event.on_behalf_of),
        "task_id": event.task_id,
        "data": event.data,
    }


def copy_dict(copy: CarbonCopy) -> dict:
    return {"id": copy.id, "sent_by": user_ref(copy.sent_by), "comment": copy.comment,
            "created_at": copy.created_at, "read_at": copy.read_at}


def inbox_items(session: Session, view: str, page: Page) -> list[dict]:
    """Rows of an inbox view: the instance, the task (todo/done) or where it stands now (started, cc)."""
    if view == "cc":
        current = open_tasks_of(session, [row.instance.id for row in page.items])
        return [{"instance": instance_summary(row.instance), "task": None,
                 "current_tasks": [task_brief(t) for t in current[row.instance.id]], "cc": copy_dict(row.copy)}
                for row in page.items]
    if view == "started":
        current = open_tasks_of(session, [i.id for i in page.items])
        return [{"instance": instance_summary(i), "task": None,
                 "current_tasks": [task_brief(t) for t in current[i.id]]} for i in page.items]
    return [{"instance": instance_summary(t.instance), "task": task_brief(t), "current_tasks": []}
            for t in page.items]
