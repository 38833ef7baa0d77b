"""Decide a step: hand the decision to the engine, close the step's row and sub-tasks, save.

Used when an approver completes a step, and when a multi-approver step or its signers reach an
outcome. Approve runs the engine task; reject ends the request, unless the diagram routes
rejections itself (user task property on_reject=route).
"""
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.approvals.deps import Deps, StepContext
from app.approvals.errors import StepFailed
from app.approvals.steps import OPEN_STATES, save_step
from app.engine import EngineError, Run
from app.models import Decision, HumanTask, ProcessInstance, TaskState
from app.processes.definitions import Deployed


def load_run(deps: Deps, instance: ProcessInstance, actor_id: int | None) -> tuple[Deployed, Run]:
    deployed = deps.catalog.get(deps.session, instance.definition_id, instance.called_definition_ids)
    run = deps.engine.load(deployed.bundle, instance.state, instance_key=str(instance.id),
                           context=StepContext(deps.session, deps.now, instance.id, actor_id))
    return deployed, run


def cancel_sub_tasks(session: Session, step: HumanTask, now) -> None:
    """Close the open sub-tasks of a step that is decided (或签's other members, unsigned signers)."""
    session.execute(
        update(HumanTask).where(HumanTask.parent_id == step.id, HumanTask.state.in_(OPEN_STATES))
        .values(state=TaskState.CANCELLED, completed_at=now),
        execution_options={"synchronize_session": "fetch"},
    )


def decide_step(deps: Deps, instance: ProcessInstance, step: HumanTask, deployed: Deployed, run: Run, *,
                decision: str, comment: str | None, data: dict, by: int, on_behalf_of: int | None,
                has_sub_tasks: bool = False) -> list[HumanTask]:
    """Apply `decision` to the step's engine task and record it; return the tasks that opened."""
    before = run.ready_task_ids()
    try:
        if decision == Decision.REJECT and run.task_properties(step.spiff_task_id).get("on_reject", "end") == "end":
            run.cancel()
        else:
            run.complete(step.spiff_task_id, {**data, "decision": decision, "comment": comment})
    except EngineError as exc:
        raise StepFailed.from_engine(exc) from exc
    step.state, step.completed_at, step.completed_by_id = TaskState.COMPLETED, deps.now, by
    step.on_behalf_of_id, step.waiting_for = on_behalf_of, None
    step.assignee_id = step.assignee_id or by
    step.decision, step.comment = decision, comment
    if has_sub_tasks:
        cancel_sub_tasks(deps.session, step, deps.now)
    decided = (step.bpmn_id, by) if decision in (Decision.APPROVE, Decision.REJECT) else None
    return save_step(deps.session, instance, deployed, run, before=before - {step.spiff_task_id}, now=deps.now,
                     actor_id=by, hooks=deps.hooks, just_decided=decided)
