"""Deployed versions: which is latest, and the parsed spec plus forms of any version, cached.

A version's spec is parsed once per process and shared by every instance on it; an instance that
calls other processes (call activities) is bound at start to their then-latest versions, and that
binding is part of the cache key.
"""
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, undefer

from app.engine import BpmnSource, SpecBundle, SpecCache, parse_bundle
from app.models import ProcessDefinition


@dataclass(frozen=True)
class Deployed:
    """A deployed version ready to run: spec bundle and forms, keyed by the definition rows used."""

    definition_id: int
    called_definition_ids: tuple[int, ...]
    process_id: str
    name: str
    version: int
    bundle: SpecBundle
    forms: dict  # process id -> task id -> JSON Schema, for the main and every called process

    def form(self, process_id: str, task_id: str) -> dict:
        return self.forms.get(process_id, {}).get(task_id) or {"type": "object", "properties": {}}

    def is_applicant_step(self, process_id: str, bpmn_id: str) -> bool:
        """The applicant's own work, not an approval: the first step (申请), or one the diagram gives back
        to them with the user-task property performer=applicant (e.g. 按控制数调整)."""
        if process_id == self.process_id and bpmn_id == self.bundle.model.application_task_id:
            return True
        model = self.bundle.models.get(process_id)
        task = model.user_tasks.get(bpmn_id) if model is not None else None
        return task is not None and task.properties.get("performer") == "applicant"


def latest_definition(session: Session, process_id: str) -> ProcessDefinition | None:
    return session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc()).limit(1)
    )


def latest_definitions(session: Session) -> list[ProcessDefinition]:
    """The latest version of every deployed process, by name."""
    latest = (select(ProcessDefinition.process_id, func.max(ProcessDefinition.version).label("version"))
              .group_by(ProcessDefinition.process_id).subquery())
    return list(session.scalars(
        select(ProcessDefinition)
        .join(latest, and_(ProcessDefinition.process_id == latest.c.process_id,
                           ProcessDefinition.version == latest.c.version))
        .order_by(ProcessDefinition.name, ProcessDefinition.process_id)
    ))


def latest_versions(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(ProcessDefinition.process_id, func.max(ProcessDefinition.version))
        .group_by(ProcessDefinition.process_id)
    )
    return dict(rows.all())


def bind_called(session: Session, definition: ProcessDefinition) -> list[int]:
    """The latest version of every process `definition` calls, transitively (call activities)."""
    bound, pending, seen = [], list(definition.called_process_ids or []), {definition.process_id}
    while pending:
        process_id = pending.pop()
        if process_id in seen:
            continue
        seen.add(process_id)
        called = latest_definition(session, process_id)
        if called is None:
            raise LookupError(f"被调用的流程 {process_id} 尚未部署")
        bound.append(called.id)
        pending += called.called_process_ids or []
    return sorted(bound)


def latest_deployed(session: Session, catalog: "DefinitionCatalog", process_id: str) -> Deployed | None:
    """The latest version of `process_id`, bound to the latest versions of what it calls; None if not deployed.

    Raises LookupError when a process it calls is not deployed.
    """
    definition = latest_definition(session, process_id)
    if definition is None:
        return None
    return catalog.get(session, definition.id, bind_called(session, definition))


class DefinitionCatalog:
    """Build and cache `Deployed` bundles; the database rows are the source, the cache a shortcut."""

    def __init__(self, maxsize: int = 256):
        self._cache = SpecCache(maxsize)

    def get(self, session: Session, definition_id: int, called_ids: list[int] | tuple = ()) -> Deployed:
        key = (definition_id, tuple(sorted(called_ids)))
        return self._cache.get(key, lambda: self._build(session, definition_id, key[1]))

    @staticmethod
    def _build(session: Session, definition_id: int, called_ids: tuple[int, ...]) -> Deployed:
        rows = session.scalars(
            select(ProcessDefinition)
            .options(undefer(ProcessDefinition.bpmn_xml), undefer(ProcessDefinition.forms))
            .where(ProcessDefinition.id.in_((definition_id, *called_ids)))
        ).all()
        by_id = {row.id: row for row in rows}
        main = by_id[definition_id]

        def source(row):
            return BpmnSource(row.filename, row.bpmn_xml.encode("utf-8"))

        bundle = parse_bundle(source(main), [source(by_id[i]) for i in called_ids])
        forms = {row.process_id: row.forms for row in rows}
        return Deployed(main.id, called_ids, main.process_id, main.name, main.version, bundle, forms)

    def clear(self) -> None:
        self._cache.clear()

    @property
    def misses(self) -> int:
        return self._cache.misses
