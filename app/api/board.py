"""督办看板：超时与即将到期的待办、按乡镇/单位/角色/人员的汇总、账龄、环节用时，以及导出 Excel。

只有监督角色（单位负责人、财政所所长、督办、审计、系统管理员）可以查看，范围是其任职机构及以下的申请；
其他人得到 403。工作日按申请所在乡镇的工作日历（含法定节假日、调休与本镇自定假日）计算。
"""
from datetime import timedelta

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app import clock
from app.api import Blueprint
from app.api.board_xlsx import BEIJING, XLSX_TYPE, board_workbook
from app.api.schemas import OrgRef, UserRef
from app.approvals.errors import Forbidden
from app.auth.request import load_user
from app.deadlines.calendar import local_date
from app.downloads import content_disposition
from app.extensions import db
from app.inbox.board import (
    BUCKET_NAMES,
    BUCKETS,
    FALLBACK_NAMES,
    BoardFilter,
    BoardReport,
    BoardTask,
    Group,
    TaskList,
    board_report,
    is_overseer,
)
from app.inbox.present import org_ref
from app.models import ROLE_NAMES, Role

bp = Blueprint("board", __name__, url_prefix="/api/v1", description="督办看板：超时待办、汇总、账龄、环节用时")

MAX_PERIOD_DAYS = 366
EXPORT_LIMIT = 10_000  # rows per list in the workbook


# --- arguments ---------------------------------------------------------------------------------------------

class BoardExportArgs(Schema):
    org = fields.String(validate=validate.Length(min=1, max=32),
                        metadata={"description": "乡镇或单位代码：只看它及以下；默认你督办的全部范围"})
    role = fields.String(validate=validate.OneOf([r.value for r in Role]), metadata={"description": "环节的角色代码"})
    user = fields.String(validate=validate.Length(min=1, max=64),
                         metadata={"description": "用户名：办理人是他，或他是未认领任务的候选人；"
                                                        "环节用时只算他办结的环节"})
    due_soon_hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=720),
                                    metadata={"description": "多少小时内到期算“即将到期”"})
    period_from = fields.Date(metadata={"description": "环节用时统计区间起（含，北京时间）；默认截止日前 29 天"})
    period_to = fields.Date(metadata={"description": "环节用时统计区间止（含，北京时间）；默认今天"})

    @validates_schema
    def _period(self, data, **kwargs):
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and start > end:
            raise ValidationError("统计区间的截止日期不能早于起始日期", "period_to")
        if start and (end or local_date(clock.now())) - start >= timedelta(days=MAX_PERIOD_DAYS):
            raise ValidationError(f"统计区间不能超过 {MAX_PERIOD_DAYS} 天", "period_from")


class BoardArgs(BoardExportArgs):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000),
                          metadata={"description": "超时待办的页码"})
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


# --- responses ---------------------------------------------------------------------------------------------

class CountsOut(Schema):
    overdue = fields.Integer(metadata={"description": "已超时"})
    due_soon = fields.Integer(metadata={"description": "即将到期（due_soon_hours 小时内）"})
    escalated = fields.Integer(metadata={"description": "已升级（尚未办理）"})
    empty_approver = fields.Integer(metadata={"description": "无人可办的兜底任务（尚未办理）"})


class BoardTaskOut(Schema):
    id = fields.Integer(metadata={"description": "任务 id"})
    instance_id = fields.Integer()
    title = fields.String(metadata={"description": "申请标题"})
    business_key = fields.String(allow_none=True, metadata={"description": "业务编号"})
    process_id = fields.String()
    bpmn_id = fields.String()
    name = fields.String(metadata={"description": "环节名称"})
    kind = fields.String(metadata={"description": "step 环节；countersign/signer_before/signer_after/delegate 子任务"})
    org = fields.Nested(OrgRef, metadata={"description": "申请所属机构"})
    township = fields.Nested(OrgRef, allow_none=True)
    unit = fields.Nested(OrgRef, allow_none=True, metadata={"description": "申请单位；乡镇本级的申请为 null"})
    role = fields.String(allow_none=True)
    role_name = fields.String(allow_none=True)
    assignee = fields.Nested(UserRef, allow_none=True, metadata={"description": "办理人；组任务未认领时为 null"})
    candidate_count = fields.Integer(metadata={"description": "可办理（认领）的候选人数"})
    created_at = fields.DateTime()
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    overdue_working_days = fields.Integer(allow_none=True, metadata={"description": "已超时的工作日数；未超时为 null"})
    aging = fields.String(allow_none=True, metadata={"enum": [*BUCKETS, None], "description": "账龄分段"})
    escalation_level = fields.Integer(metadata={"description": "超时升级到第几级（0 未升级）"})
    escalated_at = fields.DateTime(allow_none=True)
    escalated_to_role = fields.String(allow_none=True)
    fallback = fields.String(allow_none=True, metadata={"description": "无人可办时的兜底：higher_holder、admin、none"})
    fallback_name = fields.String(allow_none=True)


class TaskListOut(Schema):
    items = fields.List(fields.Nested(BoardTaskOut))
    total = fields.Integer()


class OverduePage(TaskListOut):
    page = fields.Integer()
    per_page = fields.Integer()


class OrgCounts(CountsOut):
    org = fields.Nested(OrgRef, allow_none=True)


class RoleCounts(CountsOut):
    role = fields.String(allow_none=True)
    role_name = fields.String(allow_none=True)


class PersonCounts(CountsOut):
    user = fields.Nested(UserRef, allow_none=True, metadata={"description": "办理人；null：未认领的组任务、无人可办"})


class SummaryOut(Schema):
    totals = fields.Nested(CountsOut)
    by_township = fields.List(fields.Nested(OrgCounts))
    by_unit = fields.List(fields.Nested(OrgCounts), metadata={"description": "org 为 null：乡镇本级的申请"})
    by_role = fields.List(fields.Nested(RoleCounts))
    by_person = fields.List(fields.Nested(PersonCounts))


class AgingOut(Schema):
    bucket = fields.String(metadata={"enum": list(BUCKETS)})
    label = fields.String()
    count = fields.Integer()


class StepTimeOut(Schema):
    process_id = fields.String()
    bpmn_id = fields.String()
    name = fields.String()
    count = fields.Integer(metadata={"description": "区间内办结的次数"})
    avg_hours = fields.Float(metadata={"description": "平均用时（小时，从环节开始到办结）"})
    p90_hours = fields.Float(metadata={"description": "90 分位用时（小时，线性插值，同 percentile_cont）"})


class BoardOut(Schema):
    as_of = fields.DateTime(metadata={"description": "统计时刻"})
    due_soon_hours = fields.Integer()
    period_from = fields.Date()
    period_to = fields.Date()
    overdue = fields.Nested(OverduePage, metadata={"description": "超时与即将到期的待办，超时最久的在前"})
    summary = fields.Nested(SummaryOut)
    aging = fields.List(fields.Nested(AgingOut), metadata={"description": "已超时待办按超时工作日分段"})
    escalated = fields.Nested(TaskListOut, metadata={"description": "已升级的待办，级别高的在前"})
    empty_approver = fields.Nested(TaskListOut, metadata={"description": "无人可办（空岗兜底）的待办，最早的在前"})
    step_times = fields.List(fields.Nested(StepTimeOut), metadata={"description": "环节用时，平均最慢的在前"})


# --- presenting --------------------------------------------------------------------------------------------

def _person(person) -> dict | None:
    return None if person is None else {"id": person.id, "username": person.username,
                                        "display_name": person.display_name}


def task_dict(t: BoardTask) -> dict:
    return {
        "id": t.id, "instance_id": t.instance_id, "title": t.title, "business_key": t.business_key,
        "process_id": t.process_id, "bpmn_id": t.bpmn_id, "name": t.name, "kind": t.kind, "org": org_ref(t.org),
        "township": org_ref(t.township), "unit": org_ref(t.unit), "role": t.role,
        "role_name": ROLE_NAMES.get(t.role) if t.role else None, "assignee": _person(t.assignee),
        "candidate_count": t.candidate_count, "created_at": t.created_at, "due_at": t.due_at,
        "overdue": t.overdue, "overdue_working_days": t.overdue_working_days, "aging": t.aging,
        "escalation_level": t.escalation_level, "escalated_at": t.escalated_at,
        "escalated_to_role": t.escalated_to_role, "fallback": t.fallback,
        "fallback_name": FALLBACK_NAMES.get(t.fallback) if t.fallback else None,
    }


def _list(tasks: TaskList) -> dict:
    return {"items": [task_dict(t) for t in tasks.items], "total": tasks.total}


def _counts(group: Group, **key) -> dict:
    c = group.counts
    return {**key, "overdue": c.overdue, "due_soon": c.due_soon, "escalated": c.escalated,
            "empty_approver": c.empty_approver}


def board_dict(report: BoardReport, page: int, per_page: int) -> dict:
    s = report.summary
    return {
        "as_of": report.as_of, "due_soon_hours": report.due_soon_hours,
        "period_from": report.period[0], "period_to": report.period[1],
        "overdue": {**_list(report.overdue), "page": page, "per_page": per_page},
        "summary": {
            "totals": _counts(Group(None, s.totals)),
            "by_township": [_counts(g, org=org_ref(g.key)) for g in s.by_township],
            "by_unit": [_counts(g, org=org_ref(g.key)) for g in s.by_unit],
            "by_role": [_counts(g, role=g.key, role_name=ROLE_NAMES.get(g.key) if g.key else None)
                        for g in s.by_role],
            "by_person": [_counts(g, user=_person(g.key)) for g in s.by_person],
        },
        "aging": [{"bucket": b, "label": BUCKET_NAMES[b], "count": s.aging[b]} for b in BUCKETS],
        "escalated": _list(report.escalated),
        "empty_approver": _list(report.empty_approver),
        "step_times": [vars(st) for st in report.step_times],
    }


def _report(args: dict, **limits) -> BoardReport:
    user = load_user()
    if not is_overseer(user):
        raise Forbidden("督办看板只有单位负责人、财政所所长、督办、审计和系统管理员可以查看")
    f = BoardFilter(org=args.get("org"), role=args.get("role"), user=args.get("user"),
                    due_soon_hours=args["due_soon_hours"], period_from=args.get("period_from"),
                    period_to=args.get("period_to"), **limits)
    return board_report(db.session, user, f, clock.now())


# --- views -------------------------------------------------------------------------------------------------

@bp.get("/overdue")
@bp.arguments(BoardArgs, location="query")
@bp.response(200, BoardOut)
@bp.errors(400, 401, 403, 404)
def get_board(args):
    """督办看板：你督办范围内超时与即将到期的待办（分页，超时最久的在前）、按乡镇/单位/角色/人员的汇总、
    账龄分段（不足1、1-3、3-7、7个工作日以上）、已升级与无人可办的待办、统计区间内各环节的平均与 90 分位用时。

    只有单位负责人、财政所所长、督办、审计和系统管理员可以查看（其他人 403），范围是其任职机构及以下的申请；
    org 不在范围内时 404。
    """
    report = _report(args, page=args["page"], per_page=args["per_page"])
    return board_dict(report, args["page"], args["per_page"])


@bp.get("/overdue.xlsx")
@bp.arguments(BoardExportArgs, location="query")
@bp.response(200, {"type": "string", "format": "binary"}, content_type=XLSX_TYPE,
             description="Excel 工作簿：超时待办、汇总、账龄、环节用时、升级与无人办理五张表，时间为北京时间")
@bp.errors(400, 401, 403, 404)
def export_board(args):
    """导出督办看板为 Excel（.xlsx）。筛选条件与 GET /overdue 相同；每张清单最多导出 10000 行。"""
    report = _report(args, page=1, per_page=EXPORT_LIMIT, list_limit=EXPORT_LIMIT)
    response = current_app.response_class(board_workbook(report), mimetype=XLSX_TYPE)
    stamp = report.as_of.astimezone(BEIJING).strftime("%Y%m%d-%H%M")
    response.headers["Content-Disposition"] = content_disposition(f"督办看板-{stamp}.xlsx")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response

