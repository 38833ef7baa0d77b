"""Fire an instance's due timers: the building block the deadline sweep calls, one instance at a time.

The engine decides what is due (its timers compare their due time with the clock); this locks the
instance, lets the engine run what fired, and saves like any other step. Running it twice, or for an
instance whose timers were cancelled by a return, fires nothing more.
"""
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.approvals.deciding import load_run
from app.approvals.deps import Deps, transaction
from app.approvals.steps import add_event, save_step
from app.models import EventType, InstanceStatus, ProcessInstance


def fire_due_timers(deps: Deps, instance_id: int) -> list:
    """Advance the instance past whatever timers are due now; return the tasks that opened."""
    session = deps.session
    with transaction(session):
        instance = session.scalar(select(ProcessInstance).options(undefer(ProcessInstance.state))
                                  .where(ProcessInstance.id == instance_id).with_for_update()
                                  .execution_options(populate_existing=True))
        if instance is None:
            return []
        if instance.status != InstanceStatus.RUNNING:
            instance.next_timer_at = instance.timer_claimed_until = None  # nothing to fire any more
            return []
        deployed, run = load_run(deps, instance, None)
        before = run.ready_task_ids()
        due = [t for t in run.waiting_timers() if t.due_at <= deps.now]
        run.advance()
        for timer in due:
            add_event(session, instance, EventType.TIMER_FIRED, deps.now,
                      data={"bpmn_id": timer.bpmn_id, "interrupting": timer.interrupting,
                            "due_at": timer.due_at.isoformat()})
        return save_step(session, instance, deployed, run, before=before, now=deps.now, actor_id=None,
                         hooks=deps.hooks)
