"""Deploy BPMN: check everything, then store a new version when the meaning changed.

A version is what the BPMN means plus the forms of its user tasks. Its meaning is the canonical XML
without the diagram (app/engine/canonical.py): a file opened and saved again in a modeler, or only laid
out anew, is the same version. Its stored diagram then takes the new layout in place, so whoever opens
the deployed file sees the diagram they last deployed; nothing that runs can differ, because the engine
never sees the layout. Running instances keep their version; new ones start on the latest. A batch
(the CLI deploying bpmn/) is all-or-nothing, and every problem of every file is reported at once.
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
from app.engine import (
    BpmnProblem,
    BpmnSource,
    InvalidBpmn,
    ProcessModel,
    meaning_of,
    parse_bundle,
    read_model,
    review_source,
)
from app.engine.xmlsafe import DEFAULT_MAX_BYTES
from app.models import ProcessDefinition, User, role_from_label
from app.processes.definitions import latest_definition
from app.processes.lint import lint_process


@dataclass(frozen=True)
class DeployResult:
    definition: ProcessDefinition
    created: bool  # False: same meaning as the latest version, no new version
    layout_updated: bool = False  # not created, and the latest version's stored diagram took this layout
    warnings: tuple[BpmnProblem, ...] = ()  # kept but ignored: other engines' extensions


def _called_sources(session: Session, model: ProcessModel,
                    batch: dict[str, BpmnSource]) -> tuple[list[BpmnSource], list[BpmnProblem]]:
    """What the process calls: from this batch if there, else the latest deployed version.

    A call to a process that is nowhere is reported at the call activity that makes it.
    """
    sources, problems, seen = [], [], {model.process_id}
    pending = [(model, node, called) for node, called in model.calls.values()]
    while pending:
        caller, node, process_id = pending.pop()
        if not process_id or process_id in seen:
            continue
        seen.add(process_id)
        if process_id in batch:
            source = batch[process_id]
        else:
            row = latest_definition(session, process_id)
            if row is None:
                problems.append(BpmnProblem(
                    f"调用活动调用的流程 {process_id} 尚未部署：请先部署 {process_id}.bpmn，或与本文件一起部署",
                    caller.file, node.id, node.name or None, node.line))
                continue
            source = BpmnSource(row.filename, row.bpmn_xml.encode("utf-8"))
        sources.append(source)
        called = read_model(source)
        pending += [(called, n, c) for n, c in called.calls.values()]
    return sources, problems


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


def version_hash(meaning: str, forms: dict) -> str:
    """What identifies a version: the BPMN's meaning and the canonical JSON of its forms."""
    digest = hashlib.sha256(meaning.encode("ascii"))
    digest.update(json.dumps(forms, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _spiff_problems(source: BpmnSource, called: list[BpmnSource]) -> list[BpmnProblem]:
    """SpiffWorkflow's own validation (the XML schema, then its parser), every finding translated."""
    try:
        parse_bundle(source, called)
    except InvalidBpmn as exc:
        return exc.problems
    return []


def _unique(problems: list[BpmnProblem]) -> list[BpmnProblem]:
    """One report per element and message: the engine and our checks sometimes say the same thing."""
    return list({(p.file, p.element_id, p.message): p for p in problems}.values())


def _same_as_latest(latest: ProcessDefinition | None, source: BpmnSource, sha: str, forms: dict) -> bool:
    if latest is None:
        return False
    if latest.sha256 == sha:
        return True
    # Versions stored before meanings were compared hold a hash of their bytes: compare their meaning.
    stored = BpmnSource(latest.filename, latest.bpmn_xml.encode("utf-8"))
    return version_hash(meaning_of(stored), latest.forms) == sha


def _deploy_one(deps: Deps, source: BpmnSource, uploaded_forms: dict[str, bytes], forms_dir: Path | None,
                actor: User | None, batch: dict[str, BpmnSource]) -> DeployResult:
    session = deps.session
    model = read_model(source)
    review = review_source(source)
    called, problems = _called_sources(session, model, batch)
    if not problems:  # with a called process missing, the engine would only say it cannot find it
        problems += _spiff_problems(source, called)
    problems += review.problems
    forms, form_problems = _form_sources(session, model, uploaded_forms, forms_dir)
    problems += form_problems + lint_process(model, forms, deps.operators)
    if problems:
        raise InvalidBpmn(_unique(problems))
    sha = version_hash(review.meaning, forms)
    latest = latest_definition(session, model.process_id)
    if _same_as_latest(latest, source, sha, forms):
        return _keep(latest, source, sha, tuple(review.warnings))
    definition = ProcessDefinition(
        process_id=model.process_id, version=(latest.version + 1) if latest else 1, name=model.name,
        sha256=sha, filename=Path(source.filename).name, bpmn_xml=source.data.decode("utf-8"), forms=forms,
        starter_role=role_from_label(model.user_tasks[model.application_task_id].lane or ""),
        called_process_ids=model.called_process_ids, deployed_at=deps.now,
        deployed_by_id=actor.id if actor else None,
    )
    session.add(definition)
    session.flush()
    return DeployResult(definition, created=True, warnings=tuple(review.warnings))


def _keep(latest: ProcessDefinition, source: BpmnSource, sha: str, warnings: tuple) -> DeployResult:
    """Same meaning as the latest version: no new version; its stored diagram takes the new layout."""
    text = source.data.decode("utf-8")
    changed = latest.bpmn_xml != text
    if changed:
        latest.bpmn_xml = text
    latest.sha256 = sha
    return DeployResult(latest, created=False, layout_updated=changed, warnings=warnings)


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
