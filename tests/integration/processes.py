"""Small test processes built with tests/unit/bpmn_builder.Bpmn and deployed with their forms."""
import json
from pathlib import Path

from app.engine import BpmnSource
from tests.unit.bpmn_builder import Bpmn, _extensions, _properties

APPLY_FORM = {"type": "object", "required": ["title", "amount"],
              "properties": {"title": {"type": "string", "minLength": 2},
                             "amount": {"type": "number", "format": "money", "exclusiveMinimum": 0}}}
EMPTY_FORM = {"type": "object", "properties": {}}


def approver_step(el_id: str, name: str, *, sequential: bool = False, multi: str | None = None) -> str:
    """A user task drawn with the multi-instance marker: one approval per holder of its lane's role."""
    props = _extensions(_properties({"multi": multi} if multi else None))
    marker = f'<bpmn:multiInstanceLoopCharacteristics isSequential="{"true" if sequential else "false"}"/>'
    return f'<bpmn:userTask id="{el_id}" name="{name}">{props}{marker}</bpmn:userTask>'


def deploy(deps, tmp_path: Path, doc: Bpmn, forms: dict | None = None):
    """Deploy `doc` with a form for every user task (APPLY_FORM for `apply`, empty otherwise)."""
    from app.approvals.deploy import deploy_processes
    from app.engine import read_model

    model = read_model(BpmnSource(f"{doc.process_id}.bpmn", doc.bytes()))
    folder = tmp_path / doc.process_id
    folder.mkdir(parents=True, exist_ok=True)
    for task_id in model.user_tasks:
        form = (forms or {}).get(task_id, APPLY_FORM if task_id == "apply" else EMPTY_FORM)
        (folder / f"{task_id}.json").write_text(json.dumps(form, ensure_ascii=False))
    [result] = deploy_processes(deps, [BpmnSource(f"{doc.process_id}.bpmn", doc.bytes())], forms_dir=tmp_path)
    return result.definition


def start(api, process_id: str, amount=100, **data):
    response = api.post("/api/v1/instances", json={"process_id": process_id,
                                                   "data": {"title": "测试申请", "amount": amount, **data}})
    assert response.status_code == 201, response.json
    return response.json


def my_task(api, instance_id: int):
    """The one READY task of this instance in the user's todo."""
    items = [i["task"] for i in api.get("/api/v1/tasks?view=todo&per_page=100").json["items"]
             if i["instance"]["id"] == instance_id]
    assert len(items) == 1, items
    return items[0]


def no_task(api, instance_id: int) -> bool:
    return not [i for i in api.get("/api/v1/tasks?view=todo&per_page=100").json["items"]
                if i["instance"]["id"] == instance_id]


def act(api, task_id: int, decision="approve", comment="同意", data=None):
    return api.post(f"/api/v1/tasks/{task_id}/complete",
                    json={"decision": decision, "comment": comment, "data": data or {}})


def history(api, instance_id: int) -> list[dict]:
    return api.get(f"/api/v1/instances/{instance_id}").json["history"]
