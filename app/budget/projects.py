"""项目入库: a unit's project goes through review into the project library (项目库).

Project first (先有项目): a budget line may only name a project that is in the library (C02). The
project row is written when the applicant submits, so reviewers see it; it enters the library when
the process says so (`project.accept`) and is marked rejected when the request ends any other way.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import refdata
from app.budget.common import instance_of, local_year, money, refuse, session_of, township_of
from app.controls.settings import settings_for
from app.engine import ServiceCall
from app.models import Org, ProcessInstance, Project, ProjectStatus, RefKind

# The letter in a project code tells its category, as in observed codes (…331T000000239).
CATEGORY_LETTERS = {"1": "R", "2": "Y", "3": "T"}
MAX_TERM_YEARS = 10


def project_of_instance(session: Session, instance_id: int) -> Project | None:
    return session.scalar(select(Project).where(Project.instance_id == instance_id))


def _goals(value) -> list[dict]:
    """绩效目标: at least one goal, each an indicator with a target value."""
    if not isinstance(value, list) or not value:
        raise refuse("NO_GOALS", "goals", "请至少填写一项绩效目标（指标名称和目标值）")
    goals = []
    for n, goal in enumerate(value, 1):
        name = str((goal or {}).get("name", "")).strip() if isinstance(goal, dict) else ""
        target = str((goal or {}).get("target", "")).strip() if isinstance(goal, dict) else ""
        if not name or not target:
            raise refuse("BAD_GOAL", "goals", f"第 {n} 项绩效目标须有指标名称和目标值")
        goals.append({"kind": str(goal.get("kind") or "产出指标"), "name": name[:100], "target": target[:100]})
    return goals


def register_project(call: ServiceCall) -> dict:
    """project.register: write (or, after a return, rewrite) the project from the application."""
    session, data, instance = session_of(call), call.data, instance_of(call)
    category = str(data.get("category_code", "")).strip()
    if not refdata.exists(session, RefKind.PROJECT_CATEGORY, category, leaf=True):
        raise refuse("BAD_CATEGORY", "category_code", f"项目类别 {category or '（空）'} 不存在或不是末级类别")
    this_year = local_year(call.context.now)
    start, end = int(data.get("start_year") or this_year), int(data.get("end_year") or this_year)
    if not (this_year - 1 <= start <= end <= start + MAX_TERM_YEARS):
        raise refuse("BAD_TERM", "end_year",
                     f"项目期限有误：{start}–{end} 年（起始年不早于上年，最长 {MAX_TERM_YEARS} 年）")
    project = project_of_instance(session, instance.id)
    if project is None:
        township = township_of(session, instance.org_id)
        project = Project(org_id=instance.org_id, township_id=township.id, instance_id=instance.id,
                          created_by_id=instance.initiator_id, created_at=call.context.now,
                          code=f"NEW-{instance.id}")
        session.add(project)
    project.name = str(data.get("name") or instance.title)[:200]
    project.category_code, project.start_year, project.end_year = category, start, end
    project.total_amount = money(data.get("amount"), "项目总金额")
    project.goals = _goals(data.get("goals"))
    project.description = data.get("description")
    project.status, project.updated_at = ProjectStatus.REVIEWING, call.context.now
    session.flush()
    if project.code.startswith("NEW-"):
        # Region + year + unit + category letter + sequence, like real 项目库 codes.
        org = session.get(Org, instance.org_id)
        township = session.get(Org, project.township_id)
        project.code = (f"{township.code}{start % 100:02d}{org.code[-3:]}"
                        f"{CATEGORY_LETTERS.get(category[:1], 'T')}{project.id:09d}")
    # A major project (三重一大 重大项目), or one at the township's large-sum line, goes to the Party committee.
    large = Decimal(settings_for(session, project.township_id)["collective_decision"]["amount"])
    collective = bool(data.get("major_project")) or project.total_amount >= large
    return {"project_id": project.id, "project_code": project.code, "collective": collective}


def accept_project(call: ServiceCall) -> dict:
    """project.accept: the review passed; the project is in the library and budget lines may use it."""
    session = session_of(call)
    project = project_of_instance(session, call.context.instance_id)
    if project is None:
        raise refuse("NO_PROJECT", "name", "本申请没有登记项目")
    project.status, project.updated_at = ProjectStatus.IN_LIBRARY, call.context.now
    return {"project_code": project.code, "status": project.status}


def on_closed(session: Session, instance: ProcessInstance, status: str, now: datetime) -> None:
    """Rejected or withdrawn: the project stays on record as not admitted (未通过)."""
    project = project_of_instance(session, instance.id)
    if project is not None and project.status == ProjectStatus.REVIEWING:
        project.status, project.updated_at = ProjectStatus.REJECTED, now

