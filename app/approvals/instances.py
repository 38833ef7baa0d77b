"""Start a request: the applicant fills the first step's form and the process is under way."""
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from app.approvals.attachments import DEFAULT_MAX_BYTES, attach_at_start, link_to_step
from app.approvals.deps import Deps, StepContext, transaction
from app.approvals.errors import Forbidden, InvalidInput, NotFound, StepFailed
from app.approvals.steps import MAX_COMMENT, add_event, save_step
from app.engine import EngineError, ReadyTask, Run
from app.inbox.assignment import orgs_of_role
from app.models import (
    ROLE_NAMES,
    Decision,
    EventType,
    HumanTask,
    Org,
    ProcessInstance,
    TaskState,
    User,
    role_from_label,
)
from app.processes.definitions import Deployed, latest_deployed
from app.processes.forms import normalize_form_data, validate_form_data


def _initiating_org(session: Session, user: User, role: str, org_code: str | None) -> Org:
    """The org the request is made for: where the user holds the applicant's role."""
    orgs = orgs_of_role(user, role)
    role_name = ROLE_NAMES.get(role, role)
    if org_code is not None:
        # Only the user's own units are looked at: a unit elsewhere is answered as one that does not exist.
        org = next((o for o in orgs if o.code == org_code), None)
        if org is None:
            message = f"没有代码为 {org_code} 的单位，或你在该单位没有“{role_name}”角色"
            raise InvalidInput("单位不存在", {"org": [message]})
        return org
    if not orgs:
        raise Forbidden(f"只有“{role_name}”可以发起此流程")
    if len(orgs) > 1:
        codes = "、".join(o.code for o in orgs)
        raise InvalidInput("请指定单位", {"org": [f"你在多个单位有“{role_name}”角色，请用 org 指定：{codes}"]})
    return orgs[0]


def deployed_for_start(deps: Deps, process_id: str) -> Deployed:
    """The version a new request of `process_id` starts on; NotFound when there is none."""
    try:
        deployed = latest_deployed(deps.session, deps.catalog, process_id)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc
    if deployed is None:
        raise NotFound(f"流程 {process_id} 尚未部署")
    return deployed


def application_form(deployed: Deployed) -> dict:
    """The applicant's form: that of the user task the start event leads to."""
    return deployed.form(deployed.process_id, deployed.bundle.model.application_task_id)


def start_instance(deps: Deps, user: User, process_id: str, data: dict, org_code: str | None = None,
                   comment: str | None = None, files: Sequence[tuple[str | None, bytes]] = (),
                   store_root: Path | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> ProcessInstance:
    """Start `process_id` on the latest version, completing the application step with `data`.

    `files` (name, bytes) are attached to that step; they are stored before it completes, so the checks
    the submission runs (a payment's C19) already count them.
    """
    session = deps.session
    with transaction(session):
        if comment is not None and len(comment) > MAX_COMMENT:
            raise InvalidInput("说明过长", {"comment": [f"不能超过 {MAX_COMMENT} 个字符"]})
        deployed = deployed_for_start(deps, process_id)
        model = deployed.bundle.model
        application = model.user_tasks[model.application_task_id]
        org = _initiating_org(session, user, role_from_label(application.lane), org_code)
        form = deployed.form(deployed.process_id, application.id)
        errors = validate_form_data(form, data)
        if errors:
            raise InvalidInput("申请表填写有误", {f"data.{k}": v for k, v in errors.items()})
        data = normalize_form_data(form, data)
        instance = ProcessInstance(
            definition_id=deployed.definition_id, called_definition_ids=list(deployed.called_definition_ids),
            process_id=deployed.process_id, org_id=org.id, initiator_id=user.id,
            title=str(data.get("title") or deployed.name)[:200], amount=_amount(data),
            created_at=deps.now, updated_at=deps.now, state="",
        )
        session.add(instance)
        session.flush()  # the id names the instance in its engine key and business key
        instance.business_key = f"{deployed.process_id.upper()}-{deps.now:%Y}-{instance.id:06d}"
        add_event(session, instance, EventType.INSTANCE_STARTED, deps.now, actor_id=user.id,
                  data={"process_id": deployed.process_id, "version": deployed.version, "org": org.code})
        attached = attach_at_start(session, instance, user, files, store_root, deps.now, max_bytes)
        context = StepContext(session, deps.now, instance.id, user.id)
        try:
            run = deps.engine.start(deployed.bundle, instance_key=str(instance.id), context=context,
                                    data={"initiator": user.username, "org": org.code})
            first = _application_step(run, deployed)
            run.complete(first.spiff_id, {**data, "decision": Decision.SUBMIT, "comment": comment})
        except EngineError as exc:
            raise StepFailed.from_engine(exc) from exc
        task = HumanTask(
            instance_id=instance.id, spiff_task_id=first.spiff_id, bpmn_process_id=first.process_id,
            bpmn_id=first.bpmn_id, name=first.name, role=role_from_label(first.lane or ""), lane=first.lane,
            scope_org_id=org.id, assignee_id=user.id, state=TaskState.COMPLETED, created_at=deps.now,
            completed_at=deps.now, completed_by_id=user.id, decision=Decision.SUBMIT, comment=comment,
        )
        session.add(task)
        link_to_step(session, instance, task, attached, deps.now)
        add_event(session, instance, EventType.TASK_COMPLETED, deps.now, actor_id=user.id, task=task,
                  data={"bpmn_id": first.bpmn_id, "decision": Decision.SUBMIT, "comment": comment, "data": data})
        save_step(session, instance, deployed, run, before=set(), now=deps.now, actor_id=user.id)
    return instance


def _application_step(run: Run, deployed: Deployed) -> ReadyTask:
    """The applicant's step the new workflow waits at; a diagram that waits elsewhere cannot be started.

    Deploy refuses such diagrams now (a message or timer start event, say); versions deployed before
    are refused here with the element, instead of failing half-way.
    """
    model = deployed.bundle.model
    first = next((t for t in run.ready_tasks() if t.bpmn_id == model.application_task_id), None)
    if first is None:
        start = model.start_event
        raise StepFailed(
            f"流程 {deployed.process_id} v{deployed.version} 无法发起：开始事件没有直接进入申请环节"
            f"（{model.application_task_id}）。请流程管理员改为空开始事件后重新部署",
            {"element": [start.id if start else model.application_task_id]})
    return first


def _amount(data: dict) -> Decimal | None:
    value = data.get("amount")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    return Decimal(value)
