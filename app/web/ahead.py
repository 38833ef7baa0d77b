"""The steps still ahead of a task, read from the diagram: the user tasks and called processes its
sequence flows lead to, in the order they are reached.

A step that every way from here to an end passes through is certain; one that only some ways reach
(a gateway's branch: 镇长审批 only from T1) is shown with the name of the conditional flow into it.
The diagram is small (tens of elements), so this is walked on every page, no cache.
"""
from collections import deque
from dataclasses import dataclass

from app.engine import ProcessModel
from app.processes.definitions import Deployed

STEP_KINDS = ("userTask", "callActivity")


@dataclass(frozen=True)
class Ahead:
    name: str
    lane: str | None
    condition: str | None  # None: on every way to the end


def _reached(model: ProcessModel, start: str, avoid: str | None = None) -> list[str]:
    """Elements reachable from `start` (not itself), nearest first, never passing through `avoid`."""
    seen, order, queue = {start}, [], deque([start])
    while queue:
        for target in model.flows.get(queue.popleft(), ()):
            if target in seen or target == avoid:
                continue
            seen.add(target)
            order.append(target)
            queue.append(target)
    return order


def _condition(model: ProcessModel, node: str) -> str:
    labels = [label for (_, target), label in model.flow_labels.items() if target == node]
    return labels[0] if labels else "视流程条件而定"


def _ahead_in(model: ProcessModel, start: str) -> list[Ahead]:
    ends = set(model.end_events)
    steps = []
    for node in _reached(model, start):
        if model.kinds.get(node) not in STEP_KINDS:
            continue
        element = model.user_tasks.get(node) or model.calls[node][0]
        certain = not ends.intersection(_reached(model, start, avoid=node))
        steps.append(Ahead(element.name or node, element.lane, None if certain else _condition(model, node)))
    return steps


def steps_ahead(deployed: Deployed, process_id: str, bpmn_id: str) -> list[Ahead]:
    """What comes after the task `bpmn_id` of `process_id`; in a called process, the caller's steps follow."""
    model = deployed.bundle.models.get(process_id)
    if model is None or bpmn_id not in model.kinds:
        return []
    steps = _ahead_in(model, bpmn_id)
    main = deployed.bundle.model
    if process_id != main.process_id:
        call = next((cid for cid, (_, called) in main.calls.items() if called == process_id), None)
        if call is not None:
            steps += _ahead_in(main, call)
    return steps
