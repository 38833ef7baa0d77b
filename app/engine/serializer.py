"""Save and restore a running workflow without its spec.

SpiffWorkflow embeds the whole spec in every saved instance; restoring it is 60-80 % of a load
(spiffworkflow.md §6). Our specs live once per deployed version (SpecBundle), so the saved state keeps
only tasks and data, and loading plugs the cached spec objects back in.
"""
import json
from datetime import date
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine.specs import SpecBundle


class SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry():
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SharedSpecWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    # Money stays Decimal through a save; without this SpiffWorkflow raises TypeError (§9 #21).
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]),
                      typename="date")
    return registry


class StateSerializer:
    def __init__(self):
        self._serializer = BpmnWorkflowSerializer(_registry())

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return self._serializer.serialize_json(workflow)

    def loads(self, state: str, bundle: SpecBundle) -> BpmnWorkflow:
        dct = json.loads(state)
        if not isinstance(dct, dict):
            raise ValueError("saved state is not a JSON object")
        self._serializer.migrate(dct)
        return self._serializer.from_dict(dct, spec=bundle.spec, subprocess_specs=bundle.subprocess_specs)
