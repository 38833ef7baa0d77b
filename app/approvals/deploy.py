"""Deploy BPMN: lint, then store a new version when the content changed.

A version is the BPMN bytes plus the forms of its user tasks. Running instances keep their version;
new ones start on the latest. A batch (the CLI deploying bpmn/) is all-or-nothing.
"""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from app.approvals.deps import Deps, transaction
from app.approvals.errors import Conflict
from app.engine import BpmnProblem, BpmnSource, InvalidBpmn, ProcessModel, parse_bundle, read_model
from app.engine.xmlsafe import DEFAULT_MAX_BYTES
from app.models import ProcessDefinition, User, role_from_label
from app.processes.definitions import latest_definition
from app.processes.lint import lint_process


@dataclass(frozen=True)
class DeployResult:
    definition: ProcessDefinition
    created: bool  # False: identical to the latest version, nothing stored


def _called_sources(session: Session, model: ProcessModel, batch: dict[str, BpmnSource]) -> list[BpmnSource]:
    """What the process calls: from this batch if there, else the latest deployed version."""
    sources, pending, seen = [], list(model.called_process_ids), {model.process_id}
    while pending:
        process_id = pending.pop()
        if process_id in seen:
            continue
        seen.add(process_id)
        if process_id in batch:
            source = batch[process_id]
        else:
            row = latest_definition(session, process_id)
            if row is None:
                raise InvalidBpmn([BpmnProblem(f"调用的流程 {process_id} 尚未部署", model.file)])
            source = BpmnSource(row.filename, row.bpmn_xml.encode("utf-8"))
        sources.append(source)
        pending += read_model(source).called_process_ids
    return sources


def _form_sources(session: Session, model: ProcessModel, uploaded: dict[str, bytes],
                  forms_dir: Path | None) -> tuple[dict, list[BpmnProblem]]:
    """Each user task's form: uploaded, else the latest version's, else forms/<process>/<task>.json."""
    latest = session.scalar(select(ProcessDefinition).options(undefer(ProcessDefinition.forms))
                            .where(ProcessDefinition.process_id == model.process_id)
                            .order_by(ProcessDefinition.version.desc()).limit(1))
    previous = latest.forms if latest else {}
    forms, problems = {}, []
    for task in model.user_tasks.values():
        raw = uploaded.get(task.id)
        if raw is None and forms_dir is not None and (forms_dir / model.process_id / f"{task.id}.json").is_file():
            raw = (forms_dir / model.process_id / f"{task.id}.json").read_bytes()
        if raw is None:
            if task.id in previous:
                forms[task.id] = previous[task.id]
            continue
        try:
            forms[task.id] = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(BpmnProblem(f"表单 {task.id}.json 不是合法 JSON：{exc}", model.file, task.id,
                                        task.name or None, task.line))
    return forms, problems


def content_hash(bpmn: bytes, forms: dict) -> str:
    digest = hashlib.sha256(bpmn)
    digest.update(json.dumps(forms, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _deploy_one(deps: Deps, source: BpmnSource, uploaded_forms: dict[str, bytes], forms_dir: Path | None,
                actor: User | None, batch: dict[str, BpmnSource]) -> DeployResult:
    session = deps.session
    model = read_model(source)
    parse_bundle(source, _called_sources(session, model, batch))  # SpiffWorkflow's own validation
    forms, problems = _form_sources(session, model, uploaded_forms, forms_dir)
    problems += lint_process(model, forms, deps.operators)
    if problems:
        raise InvalidBpmn(problems)
    sha = content_hash(source.data, forms)
    latest = latest_definition(session, model.process_id)
    if latest is not None and latest.sha256 == sha:
        return DeployResult(latest, created=False)
    definition = ProcessDefinition(
        process_id=model.process_id, version=(latest.version + 1) if latest else 1, name=model.name,
        sha256=sha, filename=Path(source.filename).name, bpmn_xml=source.data.decode("utf-8"), forms=forms,
        starter_role=role_from_label(model.user_tasks[model.application_task_id].lane or ""),
        called_process_ids=model.called_process_ids, deployed_at=deps.now,
        deployed_by_id=actor.id if actor else None,
    )
    session.add(definition)
    session.flush()
    return DeployResult(definition, created=True)


def deploy_processes(deps: Deps, sources: list[BpmnSource], *, uploaded_forms: dict[str, dict[str, bytes]] = None,
                     forms_dir: Path | None = None, actor: User | None = None,
                     max_bytes: int = DEFAULT_MAX_BYTES) -> list[DeployResult]:
    """Lint and store every source in one transaction; on any problem store none and report all.

    `uploaded_forms` maps process id -> task id -> JSON bytes.
    """
    uploaded_forms = uploaded_forms or {}
    batch, problems = {}, []
    for source in sources:
        try:
            batch[read_model(source, max_bytes).process_id] = source
        except InvalidBpmn as exc:
            problems += exc.problems
    if problems:
        raise InvalidBpmn(problems)
    results = []
    try:
        with transaction(deps.session):
            for process_id in _called_first(batch):
                try:
                    results.append(_deploy_one(deps, batch[process_id], uploaded_forms.get(process_id, {}),
                                               forms_dir, actor, batch))
                except InvalidBpmn as exc:
                    problems += exc.problems
            if problems:
                raise InvalidBpmn(problems)
    except IntegrityError as exc:
        raise Conflict("另一个部署同时进行，请重试") from exc
    return results


def _called_first(batch: dict[str, BpmnSource]) -> list[str]:
    """Order the batch so a called process is deployed before its callers."""
    calls = {pid: [c for c in read_model(src).called_process_ids if c in batch] for pid, src in batch.items()}
    ordered: list[str] = []

    def visit(pid, path=()):
        if pid in ordered or pid in path:
            return
        for called in calls[pid]:
            visit(called, (*path, pid))
        ordered.append(pid)

    for pid in sorted(batch):
        visit(pid)
    return ordered
