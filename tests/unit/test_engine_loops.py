"""A request sent round a loop many times stays as small and as fast as on its first pass."""
import json
from decimal import Decimal

import pytest

from app.engine import BpmnSource, Engine, parse_bundle
from tests.unit.bpmn_builder import Bpmn


def loop_doc() -> Bpmn:
    """apply -> review; the reviewer sends it back (decision == 'return') until it is approved."""
    return (Bpmn("loop").lane("l1", "clerk", "start", "apply").lane("l2", "unit_head", "review")
            .start().user_task("apply", "申请").user_task("review", "审核").gateway("gw", default="f_done")
            .script_task("count", "rounds = rounds + 1")
            .end()
            .chain("start", "apply", "review", "gw")
            .flow("gw", "count", "decision == 'return'").flow("count", "apply")
            .flow("gw", "end", el_id="f_done"))


def parallel_loop_doc() -> Bpmn:
    """A loop on one branch while the other branch's task waits: rewinding would remove that task."""
    return (Bpmn("par").lane("l", "clerk", "start", "apply", "sign", "review")
            .start().user_task("apply").raw('<bpmn:parallelGateway id="split"/>')
            .raw('<bpmn:parallelGateway id="join"/>').user_task("sign").user_task("review")
            .gateway("gw", default="f_on").end()
            .chain("start", "apply", "split").flow("split", "sign").flow("split", "review")
            .flow("review", "gw").flow("gw", "review", "decision == 'return'").flow("gw", "join", el_id="f_on")
            .flow("sign", "join").chain("join", "end"))


@pytest.fixture
def engine():
    return Engine({})


def ready(run, bpmn_id):
    [task] = [t for t in run.ready_tasks() if t.bpmn_id == bpmn_id]
    return task


def go_round(engine, bundle, state, times):
    sizes = []
    for n in range(times):
        run = engine.load(bundle, state, instance_key="k")
        run.complete(ready(run, "apply").spiff_id, {"amount": Decimal(n + 1)})
        run.complete(ready(run, "review").spiff_id, {"decision": "return"})
        state = run.dumps()
        sizes.append(len(state))
    return state, sizes


def test_a_loop_keeps_the_saved_state_from_growing(engine):
    bundle = parse_bundle(BpmnSource("loop.bpmn", loop_doc().bytes()))
    state = engine.start(bundle, instance_key="k", data={"rounds": 0}).dumps()
    state, sizes = go_round(engine, bundle, state, 60)
    assert max(sizes) - min(sizes[5:]) < 300  # bytes: the data changes, the tree does not grow
    assert len(json.loads(state)["tasks"]) < 20


def test_the_data_of_the_latest_pass_is_carried_into_the_rewound_task(engine):
    bundle = parse_bundle(BpmnSource("loop.bpmn", loop_doc().bytes()))
    state, _ = go_round(engine, bundle, engine.start(bundle, instance_key="k", data={"rounds": 0}).dumps(), 3)
    run = engine.load(bundle, state, instance_key="k")
    data = run.task_data(ready(run, "apply").spiff_id)
    assert data["rounds"] == 3
    assert data["amount"] == Decimal(3)
    assert data["decision"] == "return"


def test_the_rewound_task_keeps_its_engine_id_across_passes(engine):
    bundle = parse_bundle(BpmnSource("loop.bpmn", loop_doc().bytes()))
    run = engine.start(bundle, instance_key="k", data={"rounds": 0})
    first_id = ready(run, "apply").spiff_id
    state, _ = go_round(engine, bundle, run.dumps(), 2)
    assert ready(engine.load(bundle, state, instance_key="k"), "apply").spiff_id == first_id


def test_a_loop_beside_a_waiting_parallel_branch_is_left_alone(engine):
    bundle = parse_bundle(BpmnSource("par.bpmn", parallel_loop_doc().bytes()))
    run = engine.start(bundle, instance_key="k", data={})
    run.complete(ready(run, "apply").spiff_id, {})
    sign_id = ready(run, "sign").spiff_id
    for _ in range(3):
        run.complete(ready(run, "review").spiff_id, {"decision": "return"})
    assert ready(run, "sign").spiff_id == sign_id  # the other branch's task survived
    run.complete(ready(run, "review").spiff_id, {"decision": "ok"})
    run.complete(sign_id, {})
    assert run.outcome() == "approved"
