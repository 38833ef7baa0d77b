"""Run processes: start one, load one, complete a user task, read what is waiting.

One `Run` is one loaded workflow used inside one caller's transaction; it is not thread-safe and is
thrown away after `dumps()`. The caller locks the instance row before loading (spiffworkflow.md §9 #24).
"""
import contextvars
import copy
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition, MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from app.engine.errors import EngineError, ScriptRejected, ServiceError
from app.engine.sandbox import SandboxEnvironment
from app.engine.serializer import StateSerializer
from app.engine.specs import SpecBundle
from app.engine.types import ReadyTask, ServiceCall, ServiceRecord, WaitingTimer

Operator = Callable[..., object]


class WorkingDays(Protocol):
    """A working-day calendar (app/deadlines/calendar.py): the engine only asks it for deadlines."""

    def add_working_days(self, start: datetime, n: int) -> datetime: ...

_current_run: contextvars.ContextVar["Run | None"] = contextvars.ContextVar("engine_run", default=None)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _workdays(n) -> str:
    """For timer expressions: the deadline n working days from now (17:30 Beijing time), as ISO 8601.

    `<bpmn:timeDate>workdays(3)</bpmn:timeDate>`: China's official calendar with its 调休 make-up days,
    plus the township's own holidays when the caller's context knows them (StepContext.work_calendar).
    """
    run = _current_run.get()
    calendar = run.work_calendar() if run is not None else None
    if calendar is None:
        raise EngineError("workdays() 需要工作日历，本引擎未配置")
    return calendar.add_working_days(datetime.now(UTC), int(n)).isoformat()


class _ScriptEngine(PythonScriptEngine):
    """Sandboxed scripts, and service tasks dispatched by operator name to registered functions."""

    def __init__(self, environment: SandboxEnvironment, operators: Mapping[str, Operator]):
        super().__init__(environment=environment)
        self.operators = operators

    # Overridden here, not in the environment: the base class's error path is broken (§9 #4).
    def call_service(self, task, operation_name=None, operation_params=None, **_):
        run = _current_run.get()
        call = ServiceCall(run.context if run else None, run.instance_key if run else "", str(task.id),
                           task.task_spec.bpmn_id, operation_name, copy.deepcopy(dict(task.data)))
        operator = self.operators.get(operation_name)
        if operator is None:
            raise EngineError(f"服务操作 {operation_name} 未注册", element_id=call.bpmn_id)
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        try:
            result = operator(call, **params)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a BPMN error (or fails the step)
            return self._throw_bpmn_error(task, run, call, exc)
        if run:
            run.service_records.append(ServiceRecord(call.bpmn_id, operation_name))
        # SpiffWorkflow json.loads() the result (§9 #5): money travels as a decimal string.
        return json.dumps(result, default=_json_default)

    def _throw_bpmn_error(self, task, run, call: ServiceCall, exc: Exception) -> str:
        code = exc.code if isinstance(exc, ServiceError) else "service_failed"
        message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
        event = BpmnEvent(ErrorEventDefinition(code, code=code), payload={"error_code": code, "message": message})
        catcher = _error_catcher(task, event)
        if catcher is None:
            raise EngineError(f"服务任务 {call.bpmn_id}（{call.operator}）失败：{message}",
                              element_id=call.bpmn_id, code=code, details=getattr(exc, "details", None)) from exc
        if run:
            run.service_records.append(ServiceRecord(call.bpmn_id, call.operator, code, message))
        # Delivered to that one boundary event only: workflow.catch() would broadcast it to every
        # catcher in the process, cancelling people's tasks on parallel branches.
        catcher.task_spec.catch(catcher, event)
        catcher.task_spec._update(catcher)  # noqa: SLF001 - what EventManager.catch does after catch()
        return json.dumps({"error": code, "message": message})


def _error_catcher(task, event):
    """The boundary error event that catches `event` thrown by `task`: on the task itself, else on the
    nearest enclosing (sub)process activity. One with a matching error code wins over a catch-all."""
    current = task
    while current is not None:
        siblings = current.parent.children if current.parent is not None else []
        catchers = [s for s in siblings if s is not current and s.state == TaskState.WAITING
                    and isinstance(s.task_spec, CatchingEvent) and s.task_spec.catches(s, event)]
        if catchers:
            catchers.sort(key=lambda s: getattr(s.task_spec.event_definition, "code", None) is None)
            return catchers[0]
        workflow = current.workflow
        if workflow is workflow.top_workflow:
            return None
        current = workflow.parent_workflow.get_task_from_id(workflow.parent_task_id)
    return None


def _earlier_occurrence(task):
    """The first completed pass of the same user task on the path to `task`, if it is looping."""
    if " [child]" in task.task_spec.name:  # a multi-instance item repeats by design
        return None
    found, current = None, task.parent
    while current is not None:
        if current.task_spec is task.task_spec and current.state == TaskState.COMPLETED:
            found = current
        current = current.parent
    return found


def _is_below(task, ancestor) -> bool:
    current = task.parent
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False


def _purge_stale_waiting(workflow) -> None:
    """A reset leaves removed timer tasks in the event manager; the next step would crash (§7, §9 #7)."""
    live = {t.id for t in workflow.get_tasks(state=TaskState.ANY_MASK)}
    for task_id in [i for i in workflow.event_manager.tasks if i not in live]:
        workflow.event_manager.tasks.pop(task_id)


class Engine:
    """Holds what every run shares: the sandbox, the operator registry and the serializer."""

    def __init__(self, operators: Mapping[str, Operator], script_globals: dict | None = None,
                 calendar: WorkingDays | None = None):
        self.operators = operators
        self.calendar = calendar  # for workdays() when the caller's context brings no calendar of its own
        self._script_engine = _ScriptEngine(SandboxEnvironment({**(script_globals or {}), "workdays": _workdays}),
                                            operators)
        self._serializer = StateSerializer()

    def start(self, bundle: SpecBundle, *, instance_key: str, data: dict, context: object = None) -> "Run":
        """Create a workflow, seed its data and run it to the first waiting point."""
        workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=self._script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        run = Run(self, bundle, workflow, instance_key, context)
        run.advance()
        return run

    def load(self, bundle: SpecBundle, state: str, *, instance_key: str, context: object = None) -> "Run":
        try:
            workflow = self._serializer.loads(state, bundle)
            if workflow.task_tree is None:
                raise ValueError("没有任务树")
        except (SpiffWorkflowException, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise EngineError(f"流程状态无法恢复：{type(exc).__name__}: {exc}") from exc
        # The script engine is not saved with the state; without this the default eval() engine is back.
        workflow.script_engine = self._script_engine
        return Run(self, bundle, workflow, instance_key, context)


class Run:
    def __init__(self, engine: Engine, bundle: SpecBundle, workflow: BpmnWorkflow, instance_key: str,
                 context: object):
        self._engine = engine
        self.bundle = bundle
        self.workflow = workflow
        self.instance_key = instance_key
        self.context = context
        self.service_records: list[ServiceRecord] = []

    # -- advancing ---------------------------------------------------------------------------------

    def advance(self) -> None:
        """Fire due timers, then run every automatic step until only people or timers are awaited.

        do_engine_steps() checks timers only at its end, leaving a fired one unrun (§9 #9).
        """
        self._guarded(self.workflow.refresh_timers)
        self._guarded(self.workflow.do_engine_steps)
        self._collapse_loops()

    # -- keeping loops from growing ----------------------------------------------------------------

    def _collapse_loops(self) -> None:
        """Rewind a user task met again in a loop to its first occurrence, carrying the data along.

        SpiffWorkflow keeps every pass of a loop in the task tree, and every load, save and step walks
        the whole tree: a request sent back and forth 200 times got 20x slower. Our history is in our
        own tables, so the engine only needs the live path. Only done when nothing else is under way
        below the first occurrence (a parallel branch, a subprocess), which a rewind would remove.
        """
        for task in self.workflow.get_tasks(state=TaskState.READY, manual=True):
            first = _earlier_occurrence(task)
            if first is None or not self._alone_below(first, task):
                continue
            data = dict(task.data)
            self._guarded(lambda first=first: self.workflow.reset_from_task_id(first.id))
            _purge_stale_waiting(self.workflow)
            # Set after the reset: the reset's own data argument lets the parent's values win (§7).
            self.workflow.get_task_from_id(first.id).data = data

    def _alone_below(self, first, task) -> bool:
        live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        for other in self.workflow.get_tasks(state=live):
            if other is task or other.parent is task.parent:  # the task and its own boundary events
                continue
            if other.workflow is not task.workflow or _is_below(other, first):
                return False
        return True

    def complete(self, spiff_id: str, data: dict) -> None:
        """Complete a READY user task with `data` and advance. Refuses any other task (§9 #12)."""
        task = self._task(spiff_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineError(f"任务 {task.task_spec.bpmn_id} 不在待办状态", element_id=task.task_spec.bpmn_id)
        task.data.update(data)
        self._guarded(task.run)
        self.advance()

    def cancel(self) -> None:
        """End the whole workflow: open tasks and timers are cancelled."""
        self.workflow.cancel()

    def work_calendar(self) -> WorkingDays | None:
        """The working-day calendar of the caller's context (the instance's township), else the engine's."""
        provider = getattr(self.context, "work_calendar", None)
        return provider() if provider is not None else self._engine.calendar

    def waiting_messages(self) -> set[str]:
        """Names of the messages the process waits for now (a bank's answer, say)."""
        return {t.task_spec.event_definition.name for t in self.workflow.get_tasks(state=TaskState.WAITING)
                if isinstance(getattr(t.task_spec, "event_definition", None), MessageEventDefinition)}

    def deliver_message(self, name: str, payload: dict) -> None:
        """Hand an outside answer to the catch event waiting for message `name`, then advance."""
        if name not in self.waiting_messages():
            raise EngineError(f"流程没有在等待消息 {name}")
        self._guarded(lambda: self.workflow.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload)))
        self.advance()

    def reset_to(self, spiff_id: str, data: dict) -> list[str]:
        """Make an earlier, completed user task READY again with `data` (退回, 撤回); return what was removed.

        Everything after it is removed, timers included: SpiffWorkflow leaves the removed timers in its
        event manager, and the next step would crash on them (§7), so they are purged here. The task's
        own boundary timers start again from now.
        """
        task = self._task(spiff_id)
        if task.state != TaskState.COMPLETED or not task.task_spec.manual:
            raise EngineError(f"任务 {task.task_spec.bpmn_id} 尚未办理，不能退回到此",
                              element_id=task.task_spec.bpmn_id)
        # Guarded like a step: the reset re-arms the task's own timers, whose expressions may need the
        # run (workdays() reads the township's calendar from it).
        removed = self._guarded(lambda: self.workflow.reset_from_task_id(task.id))
        _purge_stale_waiting(self.workflow)
        # Set after the reset: the reset's own data argument lets the parent's values win (§7).
        self._task(spiff_id).data = dict(data)
        return [str(t.id) for t in removed]

    def path_behind(self, spiff_id: str) -> list[tuple[str, str, str]]:
        """The completed user tasks on the way to this task, nearest first: (spiff id, process id, bpmn id).

        The steps a return can go back to: the path that led here, not other branches.
        """
        return [(str(t.id), self._process_of(t), t.task_spec.bpmn_id) for t in self._behind(self._task(spiff_id))
                if t.task_spec.manual and t.state == TaskState.COMPLETED]

    def _behind(self, task):
        """Every task on the way to `task`, nearest first: out of the subprocess it is in, and through each
        subprocess (or transaction) passed on the way, which SpiffWorkflow keeps as workflows of their own."""
        current, workflow = task.parent, task.workflow
        while True:
            yield from self._back_through(current)
            if workflow.parent_task_id is None:
                return
            outer = self.workflow.get_task_from_id(workflow.parent_task_id)
            current, workflow = outer.parent, outer.workflow

    def _back_through(self, current):
        while current is not None:
            yield current
            inner = self.workflow.subprocesses.get(current.id)
            if inner is not None and current.state == TaskState.COMPLETED:
                end = next((t for t in inner.tasks.values()
                            if t.task_spec.name == "End" and t.state == TaskState.COMPLETED), None)
                yield from self._back_through(end)
            current = current.parent

    def _guarded(self, step: Callable[[], object]):
        """Run an engine call with this run as the current one, its failures as EngineError."""
        token = _current_run.set(self)
        try:
            return step()
        except EngineError:
            raise
        except ScriptRejected as exc:
            raise EngineError(f"脚本被拒绝：{exc}") from exc
        except SpiffWorkflowException as exc:
            task = getattr(exc, "task", None)
            element = task.task_spec.bpmn_id if task is not None else None
            raise EngineError(f"流程执行出错：{exc}", element_id=element) from exc
        except (TypeError, KeyError, AttributeError, ValueError, IndexError, NameError) as exc:
            # SpiffWorkflow's own slips on diagrams it parsed (a multi-instance without its list raises a
            # bare TypeError, §9 #15-16): the step fails with what happened, not as a server error.
            raise EngineError(f"流程执行出错（{type(exc).__name__}: {exc}）") from exc
        finally:
            _current_run.reset(token)

    # -- reading -----------------------------------------------------------------------------------

    def _task(self, spiff_id: str):
        try:
            return self.workflow.get_task_from_id(UUID(spiff_id))
        except (TaskNotFoundException, ValueError) as exc:
            raise EngineError(f"流程中没有任务 {spiff_id}") from exc

    def _process_of(self, task) -> str:
        """The deployed process a task is drawn in: a subprocess, transaction or event subprocess is a
        workflow of its own to SpiffWorkflow, but its tasks, forms and lanes belong to the enclosing file."""
        workflow = task.workflow
        while workflow.spec.name not in self.bundle.models and workflow is not workflow.top_workflow:
            workflow = workflow.parent_workflow
        return workflow.spec.name

    def ready_tasks(self) -> list[ReadyTask]:
        """User tasks waiting for a person, with the due time of their earliest interrupting timer."""
        due = {}
        for timer in self.waiting_timers():
            if timer.interrupting and timer.attached_to_spiff_id:
                current = due.get(timer.attached_to_spiff_id)
                due[timer.attached_to_spiff_id] = min(filter(None, (current, timer.due_at)))
        return [
            ReadyTask(str(t.id), self._process_of(t), t.task_spec.bpmn_id,
                      t.task_spec.bpmn_name or t.task_spec.bpmn_id, t.task_spec.lane,
                      dict(t.task_spec.extensions.get("properties", {})), due.get(str(t.id)))
            for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)
        ]

    def waiting_timers(self) -> list[WaitingTimer]:
        timers = []
        for task in self.workflow.get_tasks(state=TaskState.WAITING):
            definition = getattr(task.task_spec, "event_definition", None)
            value = task.internal_data.get("event_value")
            if not isinstance(definition, TimerEventDefinition) or value is None:
                continue
            due = datetime.fromisoformat(value["next"]) if isinstance(value, dict) else \
                TimerEventDefinition.get_datetime(value)
            attached = next((str(s.id) for s in task.parent.children if s.task_spec.manual), None)
            timers.append(WaitingTimer(str(task.id), task.task_spec.bpmn_id, due,
                                       getattr(task.task_spec, "cancel_activity", True), attached))
        return timers

    def ready_task_ids(self) -> set[str]:
        return {str(t.id) for t in self.workflow.get_tasks(state=TaskState.READY, manual=True)}

    def task_properties(self, spiff_id: str) -> dict:
        return dict(self._task(spiff_id).task_spec.extensions.get("properties", {}))

    def task_data(self, spiff_id: str) -> dict:
        return dict(self._task(spiff_id).data)

    def task_is_ready(self, spiff_id: str) -> bool:
        task = self._task(spiff_id)
        return task.state == TaskState.READY and task.task_spec.manual

    @property
    def finished(self) -> bool:
        return self.workflow.completed

    def outcome(self) -> str | None:
        """'approved' or 'rejected' once finished (by the end events reached), else None."""
        if not self.workflow.completed:
            return None
        if not self.workflow.success:
            return "cancelled"
        ends = self.bundle.model.end_outcomes
        reached = {t.task_spec.bpmn_id for t in self.workflow.get_tasks(state=TaskState.COMPLETED)
                   if t.task_spec.bpmn_id in ends}
        return "rejected" if any(ends[e] == "rejected" for e in reached) else "approved"

    def dumps(self) -> str:
        return self._engine._serializer.dumps(self.workflow)
