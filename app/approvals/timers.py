"""Fire an instance's due timers: the building block the deadline sweep calls, one instance at a time.

The engine decides what is due (its timers compare their due time with the clock); this locks the
instance, lets the engine run what fired, and saves like any other step. Running it twice, or for an
instance whose timers were cancelled by a return, fires nothing more.
"""
from sqlalchemy import select
from sqlalchemy.orm import undefer

from app.approvals.deciding import load_run
from app.approvals.deps import Deps, transaction
from app.approvals.steps import save_step
from app.models import InstanceStatus, ProcessInstance


def fire_due_timers(deps: Deps, instance_id: int) -> list:
    """Advance the instance past whatever timers are due now; return the tasks that opened."""
    session = deps.session
    with transaction(session):
        instance = session.scalar(select(ProcessInstance).options(undefer(ProcessInstance.state))
                                  .where(ProcessInstance.id == instance_id).with_for_update()
                                  .execution_options(populate_existing=True))
        if instance is None or instance.status != InstanceStatus.RUNNING:
            return []
        deployed, run = load_run(deps, instance, None)
        before = run.ready_task_ids()
        run.advance()
        return save_step(session, instance, deployed, run, before=before, now=deps.now, actor_id=None,
                         hooks=deps.hooks)
