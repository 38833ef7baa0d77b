"""The runner: start, complete, save and load, gateways, service tasks, timers, cancel and outcomes."""
import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
import time_machine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from app.engine import BpmnSource, Engine, EngineError, ServiceCall, ServiceError, ServiceRecord, parse_bundle
from app.engine.sandbox import SandboxEnvironment
from tests.unit.bpmn_builder import Bpmn, approval

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def bundle_of(doc: Bpmn, filename: str | None = None):
    return parse_bundle(BpmnSource(filename or f"{doc.process_id}.bpmn", doc.bytes()))


@pytest.fixture(scope="module")
def approval_bundle():
    return bundle_of(approval(review_props={"form_title": "审核意见"}))


@pytest.fixture(scope="module")
def expense_bundle():
    path = REPO / "bpmn" / "expense_claim.bpmn"
    return parse_bundle(BpmnSource("expense_claim.bpmn", path.read_bytes()))


@pytest.fixture
def engine():
    return Engine({})


def only_ready(run):
    tasks = run.ready_tasks()
    assert len(tasks) == 1, tasks
    return tasks[0]


def ready_ids(run) -> list[str]:
    return [t.bpmn_id for t in run.ready_tasks()]


def spiff_task(run, bpmn_id):
    [task] = [t for t in run.workflow.get_tasks(state=TaskState.ANY_MASK) if t.task_spec.bpmn_id == bpmn_id]
    return task


# -- start and complete ---------------------------------------------------------------------------------


def test_start_runs_to_the_first_user_task_with_its_lane_name_and_process(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={"town": "青山镇"})
    task = only_ready(run)
    assert (task.bpmn_id, task.name, task.lane, task.process_id) == ("apply", "填写申请", "clerk", "demo")
    assert UUID(task.spiff_id)
    assert task.due_at is None
    assert not run.finished and run.outcome() is None


def test_start_seeds_the_data_into_the_first_task(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={"town": "青山镇"})
    assert run.task_data(only_ready(run).spiff_id) == {"town": "青山镇"}


def test_a_ready_task_without_a_name_is_shown_by_its_id(engine):
    doc = Bpmn("p").lane("l", "clerk", "start", "apply").start().user_task("apply").end().chain("start", "apply", "end")
    assert only_ready(engine.start(bundle_of(doc), instance_key="k", data={})).name == "apply"


def test_complete_advances_to_the_next_task_carrying_the_data_forward(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={"town": "青山镇"})
    run.complete(only_ready(run).spiff_id, {"amount": Decimal("1200.00")})
    review = only_ready(run)
    assert (review.bpmn_id, review.lane) == ("review", "finance_reviewer")
    assert review.properties == {"form_title": "审核意见"}
    assert run.task_data(review.spiff_id) == {"town": "青山镇", "amount": Decimal("1200.00")}
    assert run.task_properties(review.spiff_id) == {"form_title": "审核意见"}


def test_completing_the_last_task_finishes_the_process_as_approved(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    run.complete(only_ready(run).spiff_id, {})
    run.complete(only_ready(run).spiff_id, {})
    assert run.ready_tasks() == []
    assert run.finished
    assert run.outcome() == "approved"


def test_spiffworkflow_itself_would_run_a_task_that_is_not_ready(engine, approval_bundle):
    # Why the runner must check (spiffworkflow.md §9 #12): this is the behaviour it guards against.
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    review = spiff_task(run, "review")
    assert review.state != TaskState.READY
    review.run()
    assert review.state == TaskState.COMPLETED


def test_completing_a_task_that_is_not_ready_is_refused(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    review = spiff_task(run, "review")
    with pytest.raises(EngineError) as info:
        run.complete(str(review.id), {"amount": 1})
    assert info.value.element_id == "review"
    assert review.state != TaskState.COMPLETED
    assert "amount" not in review.data
    assert ready_ids(run) == ["apply"]
    assert not run.task_is_ready(str(review.id))


def test_completing_a_task_twice_is_refused(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    apply = only_ready(run).spiff_id
    run.complete(apply, {})
    with pytest.raises(EngineError):
        run.complete(apply, {})
    assert ready_ids(run) == ["review"]


@pytest.mark.parametrize("spiff_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_completing_an_unknown_task_is_refused(engine, approval_bundle, spiff_id):
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    with pytest.raises(EngineError):
        run.complete(spiff_id, {})


# -- saving and loading ---------------------------------------------------------------------------------


def test_state_round_trips_with_decimal_date_and_datetime_values(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    data = {"amount": Decimal("1234.50"), "due": date(2026, 3, 31), "signed_at": T0, "lines": [Decimal("0.10")]}
    run.complete(only_ready(run).spiff_id, data)
    state = run.dumps()
    loaded = engine.load(approval_bundle, state, instance_key="inst-1")
    review = only_ready(loaded)
    assert review.bpmn_id == "review"
    restored = loaded.task_data(review.spiff_id)
    assert restored == data
    assert type(restored["amount"]) is Decimal and type(restored["due"]) is date
    loaded.complete(review.spiff_id, {})
    assert loaded.outcome() == "approved"


def test_the_saved_state_leaves_the_spec_out_and_is_much_smaller(engine, expense_bundle):
    run = engine.start(expense_bundle, instance_key="inst-1", data={"title": "购买办公用品"})
    run.complete(only_ready(run).spiff_id, {"payee": "镇供销社"})
    state = run.dumps()
    saved = json.loads(state)
    assert "spec" not in saved and "subprocess_specs" not in saved
    assert "amount >= 5000" not in state  # the gateway condition lives in the spec only
    default = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG)).serialize_json(run.workflow)
    assert "spec" in json.loads(default)
    assert len(state) < 0.6 * len(default)


def test_a_loaded_run_uses_the_sandbox_not_the_default_script_engine(engine, approval_bundle):
    run = engine.start(approval_bundle, instance_key="inst-1", data={})
    loaded = engine.load(approval_bundle, run.dumps(), instance_key="inst-1")
    assert isinstance(loaded.workflow.script_engine.environment, SandboxEnvironment)


def test_a_dangerous_condition_is_still_refused_after_a_round_trip(engine):
    doc = (Bpmn("g").lane("l", "clerk", "start", "apply", "danger", "safe")
           .start().user_task("apply").gateway("gw", default="f_safe").user_task("danger").user_task("safe")
           .end("e1").end("e2")
           .chain("start", "apply", "gw").flow("gw", "danger", "__import__('os').path.exists('/')")
           .flow("gw", "safe", el_id="f_safe").chain("danger", "e1").chain("safe", "e2"))
    bundle = bundle_of(doc)
    run = engine.load(bundle, engine.start(bundle, instance_key="k", data={}).dumps(), instance_key="k")
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {})
    assert info.value.element_id == "gw"
    assert "danger" not in ready_ids(run)


@pytest.mark.parametrize("state", ["{not json", "{}", "null", "[]", '{"serializer_version": "1.5"}'],
                         ids=["not json", "empty object", "null", "list", "no workflow"])
def test_a_state_that_cannot_be_read_is_an_engine_error(engine, approval_bundle, state):
    with pytest.raises(EngineError, match="流程状态无法恢复"):
        engine.load(approval_bundle, state, instance_key="k")


def test_a_state_whose_task_tree_is_broken_is_an_engine_error(engine, approval_bundle):
    saved = json.loads(engine.start(approval_bundle, instance_key="k", data={}).dumps())
    saved["tasks"] = {}
    with pytest.raises(EngineError, match="流程状态无法恢复"):
        engine.load(approval_bundle, json.dumps(saved), instance_key="k")


# -- gateways -------------------------------------------------------------------------------------------


def finish_expense_claim(engine, bundle, amount) -> object:
    run = engine.start(bundle, instance_key="inst-1", data={})
    run.complete(only_ready(run).spiff_id, {"amount": amount})
    run.complete(only_ready(run).spiff_id, {})  # unit head
    run.complete(only_ready(run).spiff_id, {})  # finance
    return run


def test_the_gateway_routes_a_claim_below_the_line_straight_to_approval(engine, expense_bundle):
    run = finish_expense_claim(engine, expense_bundle, Decimal("4999.99"))
    assert run.finished and run.outcome() == "approved"


def test_the_gateway_routes_a_claim_at_the_line_to_the_township_head(engine, expense_bundle):
    run = finish_expense_claim(engine, expense_bundle, Decimal("5000.00"))
    head = only_ready(run)
    assert (head.bpmn_id, head.lane) == ("township_head_approve", "镇长")
    run.complete(head.spiff_id, {})
    assert run.outcome() == "approved"


def test_a_condition_that_exceeds_the_work_budget_fails_the_step_quickly(engine):
    doc = (Bpmn("g").lane("l", "clerk", "start", "apply", "big").start().user_task("apply")
           .gateway("gw", default="f_small").user_task("big").end("e1").end("e2")
           .chain("start", "apply", "gw").flow("gw", "big", "len('x' * 10**10) > 0").flow("gw", "e2", el_id="f_small")
           .chain("big", "e1"))
    run = engine.start(bundle_of(doc), instance_key="k", data={})
    started = time.monotonic()
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {})
    assert time.monotonic() - started < 1.0
    assert info.value.element_id == "gw"


def test_a_condition_on_a_missing_variable_names_the_gateway(engine):
    doc = (Bpmn("g").lane("l", "clerk", "start", "apply", "big").start().user_task("apply")
           .gateway("gw", default="f_small").user_task("big").end("e1").end("e2")
           .chain("start", "apply", "gw").flow("gw", "big", "amount > 1").flow("gw", "e2", el_id="f_small")
           .chain("big", "e1"))
    run = engine.start(bundle_of(doc), instance_key="k", data={})
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {})
    assert info.value.element_id == "gw"


# -- service tasks --------------------------------------------------------------------------------------


def service_doc(operator: str | None = "ledger.reserve", catch: str | None = None,
                params: dict | None = None) -> Bpmn:
    """apply -> reserve (service) -> review -> end; optional boundary error on reserve -> fix -> end_err."""
    doc = (Bpmn("svc").lane("l", "clerk", "start", "apply", "review", "fix")
           .start().user_task("apply", "填写")
           .service_task("reserve", operator, params if params is not None else
                         {"amount": "amount * 2", "memo": "'预留 ' + title"}, result_variable="reservation",
                         name="预留额度")
           .user_task("review", "审核").user_task("fix", "修改")
           .end("end").end("end_err", outcome="rejected")
           .chain("start", "apply", "reserve", "review", "end"))
    if catch == "any":
        doc.raw('<bpmn:boundaryEvent id="catch" attachedToRef="reserve"><bpmn:errorEventDefinition/>'
                "</bpmn:boundaryEvent>")
    elif catch:
        doc.error("err", catch).error_boundary("catch", "reserve", "err")
    if catch:
        doc.chain("catch", "fix", "end_err")
    return doc


class Recorder:
    """An operator that remembers each call and answers (or fails) as told."""

    def __init__(self, result=None, error: Exception | None = None):
        self.calls: list[tuple[ServiceCall, dict]] = []
        self.result = result if result is not None else {"ok": True}
        self.error = error

    def __call__(self, call, **params):
        self.calls.append((call, params))
        if self.error is not None:
            raise self.error
        return self.result


def start_service_run(operator_fn, catch=None, context=None, **kwargs):
    bundle = bundle_of(service_doc(catch=catch, **kwargs))
    engine = Engine({"ledger.reserve": operator_fn})
    run = engine.start(bundle, instance_key="inst-7", data={}, context=context)
    return engine, bundle, run


def test_a_service_operator_gets_its_evaluated_params_and_a_service_call(engine):
    op = Recorder()
    context = object()
    _, _, run = start_service_run(op, context=context)
    run.complete(only_ready(run).spiff_id, {"amount": Decimal("600.00"), "title": "办公桌"})
    [(call, params)] = op.calls
    assert params == {"amount": Decimal("1200.00"), "memo": "预留 办公桌"}
    assert call.context is context
    assert (call.instance_key, call.bpmn_id, call.operator) == ("inst-7", "reserve", "ledger.reserve")
    assert call.spiff_task_id == str(spiff_task(run, "reserve").id)
    assert call.idempotency_key == f"inst-7:{call.spiff_task_id}"
    assert run.service_records == [ServiceRecord("reserve", "ledger.reserve")]
    assert ready_ids(run) == ["review"]


def test_the_idempotency_key_is_the_same_when_a_step_is_retried_from_the_saved_state():
    op = Recorder()
    engine, bundle, run = start_service_run(op)
    state, apply = run.dumps(), only_ready(run).spiff_id
    for _ in range(2):  # the first attempt "fails" after the operator ran; the step is retried from state
        engine.load(bundle, state, instance_key="inst-7").complete(apply, {"amount": 1, "title": "t"})
    first, second = (call.idempotency_key for call, _ in op.calls)
    assert first == second


def test_a_service_result_with_decimals_is_stored_under_the_result_variable(engine):
    op = Recorder(result={"left": Decimal("12.50"), "on": date(2026, 3, 2)})
    engine, bundle, run = start_service_run(op)
    run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    review = only_ready(run)
    assert run.task_data(review.spiff_id)["reservation"] == {"left": "12.50", "on": "2026-03-02"}
    loaded = engine.load(bundle, run.dumps(), instance_key="inst-7")
    assert loaded.task_data(review.spiff_id)["reservation"]["left"] == "12.50"


def test_a_service_error_is_caught_by_a_boundary_error_event_with_its_code():
    op = Recorder(error=ServiceError("over_budget", "超出年度预算"))
    _, _, run = start_service_run(op, catch="over_budget")
    run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    fix = only_ready(run)
    assert (fix.bpmn_id, fix.name) == ("fix", "修改")
    assert run.service_records == [ServiceRecord("reserve", "ledger.reserve", "over_budget", "超出年度预算")]
    assert spiff_task(run, "review").state != TaskState.READY
    run.complete(fix.spiff_id, {})
    assert run.finished and run.outcome() == "rejected"


def test_a_service_error_without_a_boundary_fails_the_step_naming_the_element():
    op = Recorder(error=ServiceError("over_budget", "超出年度预算"))
    _, _, run = start_service_run(op)
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    assert (info.value.element_id, info.value.code) == ("reserve", "over_budget")
    assert "reserve" in str(info.value) and "超出年度预算" in str(info.value)


def test_a_boundary_for_another_error_code_does_not_catch_it():
    op = Recorder(error=ServiceError("over_budget", "超出年度预算"))
    _, _, run = start_service_run(op, catch="bank_down")
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    assert info.value.code == "over_budget"


def test_an_unexpected_exception_becomes_the_error_code_service_failed():
    op = Recorder(error=ZeroDivisionError("division by zero"))
    _, _, run = start_service_run(op)
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    assert (info.value.element_id, info.value.code) == ("reserve", "service_failed")
    assert "ZeroDivisionError" in str(info.value)


@pytest.mark.parametrize("catch", ["service_failed", "any"])
def test_an_unexpected_exception_can_be_caught_as_service_failed(catch):
    op = Recorder(error=ZeroDivisionError("division by zero"))
    _, _, run = start_service_run(op, catch=catch)
    run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    assert ready_ids(run) == ["fix"]
    [record] = run.service_records
    assert record.error_code == "service_failed"
    assert "ZeroDivisionError" in record.message


def test_an_unregistered_operator_is_an_engine_error_naming_the_element():
    bundle = bundle_of(service_doc(operator="ledger.unknown", catch="any"))
    run = Engine({"ledger.reserve": Recorder()}).start(bundle, instance_key="k", data={})
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {"amount": 1, "title": "t"})
    assert info.value.element_id == "reserve"
    assert "ledger.unknown" in str(info.value)


def test_a_service_parameter_is_evaluated_in_the_sandbox():
    op = Recorder()
    _, _, run = start_service_run(op, params={"cwd": "__import__('os').getcwd()"})
    with pytest.raises(EngineError):
        run.complete(only_ready(run).spiff_id, {})
    assert op.calls == []


def test_a_service_error_is_not_caught_by_a_boundary_on_a_parallel_task():
    # BPMN errors propagate to the failing activity's own boundary (or an enclosing scope), never sideways:
    # a failure in `reserve` must not cancel `sign`, a person's task on the other branch.
    doc = (Bpmn("par").lane("l", "clerk", "start", "apply", "sign", "fix", "after")
           .start().user_task("apply").raw('<bpmn:parallelGateway id="split"/>')
           .raw('<bpmn:parallelGateway id="join"/>')
           .user_task("sign", "会签").service_task("reserve", "ledger.reserve", {})
           .user_task("fix").user_task("after").end("end").end("end_err")
           .error("err", "over_budget").error_boundary("catch_sign", "sign", "err")
           .chain("start", "apply", "split").flow("split", "sign").flow("split", "reserve")
           .flow("sign", "join").flow("reserve", "join").chain("join", "after", "end")
           .chain("catch_sign", "fix", "end_err"))
    op = Recorder(error=ServiceError("over_budget", "超出年度预算"))
    run = Engine({"ledger.reserve": op}).start(bundle_of(doc), instance_key="k", data={})
    with pytest.raises(EngineError) as info:
        run.complete(only_ready(run).spiff_id, {})
    assert info.value.element_id == "reserve"


# -- timers ---------------------------------------------------------------------------------------------


def timer_doc() -> Bpmn:
    return (Bpmn("timed").lane("l", "clerk", "start", "apply", "review", "escalated", "reminded")
            .start().user_task("apply").user_task("review", "审核").user_task("escalated", "督办")
            .user_task("reminded", "提醒").end("end").end("end_esc").end("end_rem")
            .timer("t_escalate", "review", "timeDuration", '"P2D"')
            .timer("t_remind", "review", "timeDuration", '"PT24H"', interrupting=False)
            .timer("t_deadline", "review", "timeDate", '"2026-03-03T17:00:00+08:00"')
            .chain("start", "apply", "review", "end").chain("t_escalate", "escalated", "end_esc")
            .chain("t_remind", "reminded", "end_rem").flow("t_deadline", "escalated"))


@pytest.fixture
def timed_run(engine):
    bundle = bundle_of(timer_doc())
    with time_machine.travel(T0, tick=False):
        run = engine.start(bundle, instance_key="k", data={})
        run.complete(only_ready(run).spiff_id, {})
    return engine, bundle, run


def test_waiting_timers_report_each_boundary_timer_with_its_due_time(timed_run):
    _, _, run = timed_run
    review = only_ready(run)
    timers = {t.bpmn_id: t for t in run.waiting_timers()}
    assert set(timers) == {"t_escalate", "t_remind", "t_deadline"}
    assert (timers["t_escalate"].due_at, timers["t_escalate"].interrupting) == (T0 + timedelta(days=2), True)
    assert (timers["t_remind"].due_at, timers["t_remind"].interrupting) == (T0 + timedelta(hours=24), False)
    assert timers["t_deadline"].due_at == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert {t.attached_to_spiff_id for t in timers.values()} == {review.spiff_id}


def test_a_ready_tasks_due_time_is_its_earliest_interrupting_timer(timed_run):
    _, _, run = timed_run
    # t_deadline (03-03 09:00 UTC) beats t_escalate (03-04 09:00); the non-interrupting reminder does not count
    # even though it is due at the same moment.
    assert only_ready(run).due_at == datetime(2026, 3, 3, 9, tzinfo=UTC)


def test_a_ready_task_with_only_a_reminder_has_no_due_time(engine):
    doc = (Bpmn("p").lane("l", "clerk", "start", "apply", "reminded").start().user_task("apply")
           .user_task("reminded").end("end").end("e2")
           .timer("t_remind", "apply", "timeDuration", '"PT24H"', interrupting=False)
           .chain("start", "apply", "end").chain("t_remind", "reminded", "e2"))
    with time_machine.travel(T0, tick=False):
        run = engine.start(bundle_of(doc), instance_key="k", data={})
    assert only_ready(run).due_at is None
    assert [t.bpmn_id for t in run.waiting_timers()] == ["t_remind"]


def test_due_times_survive_a_round_trip(timed_run):
    engine, bundle, run = timed_run
    loaded = engine.load(bundle, run.dumps(), instance_key="k")
    assert sorted(loaded.waiting_timers(), key=lambda t: t.bpmn_id) == \
        sorted(run.waiting_timers(), key=lambda t: t.bpmn_id)


def test_advancing_after_an_interrupting_timer_is_due_runs_its_branch(timed_run):
    engine, bundle, run = timed_run
    with time_machine.travel(datetime(2026, 3, 3, 9, 30, tzinfo=UTC), tick=False):
        loaded = engine.load(bundle, run.dumps(), instance_key="k")
        loaded.advance()
        assert sorted(ready_ids(loaded)) == ["escalated", "reminded"]
        assert spiff_task(loaded, "review").state == TaskState.CANCELLED


def test_nothing_fires_before_the_due_time(timed_run):
    engine, bundle, run = timed_run
    with time_machine.travel(datetime(2026, 3, 3, 8, 59, tzinfo=UTC), tick=False):
        loaded = engine.load(bundle, run.dumps(), instance_key="k")
        loaded.advance()
        assert ready_ids(loaded) == ["review"]
        assert len(loaded.waiting_timers()) == 3


# -- cancel and outcomes --------------------------------------------------------------------------------


def test_cancel_ends_the_workflow_as_cancelled_with_nothing_left_waiting(timed_run):
    _, _, run = timed_run
    run.cancel()
    assert run.finished
    assert run.outcome() == "cancelled"
    assert run.ready_tasks() == [] and run.waiting_timers() == []


def test_the_outcome_is_rejected_when_the_process_ends_at_a_rejected_end_event(engine):
    doc = (Bpmn("r").lane("l", "clerk", "start", "apply", "review").start().user_task("apply").user_task("review")
           .gateway("gw", default="f_ok").end("end_ok", outcome="approved").end("end_no", outcome="rejected")
           .chain("start", "apply", "review", "gw")
           .flow("gw", "end_no", "decision == 'reject'").flow("gw", "end_ok", el_id="f_ok"))
    bundle = bundle_of(doc)
    outcomes = {}
    for decision in ("reject", "approve"):
        run = engine.start(bundle, instance_key="k", data={})
        run.complete(only_ready(run).spiff_id, {})
        assert run.outcome() is None
        run.complete(only_ready(run).spiff_id, {"decision": decision})
        outcomes[decision] = run.outcome()
    assert outcomes == {"reject": "rejected", "approve": "approved"}


# -- messages from outside (a bank's answer) -------------------------------------------------------------


def _bank_wait_doc() -> str:
    doc = (Bpmn("pay").lane("l", "clerk", "start", "apply").start().user_task("apply")
           .raw('<bpmn:intermediateCatchEvent id="wait_bank"><bpmn:messageEventDefinition messageRef="bank_result">'
                "<bpmn:extensionElements><spiffworkflow:messageVariable>bank</spiffworkflow:messageVariable>"
                "</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>")
           .gateway("gw", default="f_ret").end("end_paid").end("end_ret", outcome="rejected")
           .chain("start", "apply", "wait_bank", "gw").flow("gw", "end_paid", "bank['status'] == 'paid'")
           .flow("gw", "end_ret", el_id="f_ret"))
    return doc.xml().replace("</bpmn:definitions>",
                             '<bpmn:message id="bank_result" name="bank_result"/></bpmn:definitions>')


@pytest.mark.parametrize("status,outcome", [("paid", "approved"), ("returned", "rejected")])
def test_a_message_from_outside_resumes_the_waiting_process_with_its_payload(engine, status, outcome):
    bundle = parse_bundle(BpmnSource("pay.bpmn", _bank_wait_doc().encode()))
    run = engine.start(bundle, instance_key="k", data={})
    run.complete(only_ready(run).spiff_id, {})
    assert run.waiting_messages() == {"bank_result"}
    loaded = engine.load(bundle, run.dumps(), instance_key="k")
    loaded.deliver_message("bank_result", {"status": status})
    assert loaded.outcome() == outcome


def test_a_message_nobody_waits_for_is_an_engine_error(engine):
    bundle = parse_bundle(BpmnSource("pay.bpmn", _bank_wait_doc().encode()))
    run = engine.start(bundle, instance_key="k", data={})
    with pytest.raises(EngineError, match="bank_result"):
        run.deliver_message("bank_result", {"status": "paid"})
