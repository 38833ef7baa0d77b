"""The supervisors' board as an Excel workbook: the same figures as GET /api/v1/overdue, one sheet per section.

Sheets 超时待办, 汇总, 账龄, 环节用时, 升级与无人办理, each a plain table with Chinese headers in row 1 (so
it sorts and filters in Excel). Excel has no time zones: times are written as Beijing wall-clock time.
Titles and names come from users: they are written as text (app.tabular.xlsx_cell), never as formulas.
Written in openpyxl's write-only mode, so a long list costs little memory.
"""
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.inbox.board import BUCKET_NAMES, BUCKETS, FALLBACK_NAMES, BoardReport, BoardTask, Group, TaskList
from app.models import ROLE_NAMES
from app.tabular import xlsx_cell

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BEIJING = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "yyyy-mm-dd hh:mm"
BOLD = Font(bold=True)

TASK_HEADERS = ["状态", "乡镇", "单位", "申请标题", "业务编号", "流程", "环节", "角色", "办理人", "候选人数",
                "创建时间", "办理期限", "超时工作日", "账龄", "升级级别", "升级至", "无人可办"]
COUNT_HEADERS = ["超时", "即将到期", "已升级", "无人可办"]


def _cell(ws, value):
    if isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value.astimezone(BEIJING).replace(tzinfo=None))
        cell.number_format = TIME_FORMAT
        return cell
    return xlsx_cell(ws, value)  # a title typed as "=HYPERLINK(…)" is shown, not run


def _header(ws, names: list[str], widths: list[int] | None = None) -> None:
    for i, width in enumerate(widths or [], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    row = []
    for name in names:
        cell = WriteOnlyCell(ws, name)
        cell.font = BOLD
        row.append(cell)
    ws.append(row)
    ws.freeze_panes = "A2"


def _name(thing) -> str:
    return getattr(thing, "name", None) or ""


def _role(role: str | None) -> str:
    return ROLE_NAMES.get(role, role) if role else ""


def _status(t: BoardTask) -> str:
    return "超时" if t.overdue else "即将到期"


def _task_cells(t: BoardTask) -> list:
    assignee = t.assignee.display_name if t.assignee else ""
    return [_name(t.township), _name(t.unit) or "（本级）", t.title, t.business_key or "", t.process_id, t.name,
            _role(t.role), assignee, t.candidate_count, t.created_at, t.due_at, t.overdue_working_days,
            t.aging or "", t.escalation_level, _role(t.escalated_to_role), FALLBACK_NAMES.get(t.fallback, "")]


def _rows(ws, rows) -> None:
    for row in rows:
        ws.append([_cell(ws, v) for v in row])


def _truncated(ws, shown: TaskList) -> None:
    if shown.total > len(shown.items):
        ws.append([f"仅导出前 {len(shown.items)} 条，共 {shown.total} 条；请缩小筛选范围"])


def _counts(g: Group) -> list[int]:
    return [g.counts.overdue, g.counts.due_soon, g.counts.escalated, g.counts.empty_approver]


def board_workbook(report: BoardReport) -> bytes:
    wb = Workbook(write_only=True)
    wb.properties.title = "督办看板"
    start, end = report.period
    wb.properties.description = (f"统计时刻 {report.as_of.astimezone(BEIJING):%Y-%m-%d %H:%M}（北京时间）；"
                                 f"即将到期：{report.due_soon_hours} 小时内；环节用时区间 {start} 至 {end}")

    ws = wb.create_sheet("超时待办")
    _header(ws, TASK_HEADERS, [8, 10, 14, 30, 18, 16, 16, 12, 10, 8, 17, 17, 10, 8, 8, 12, 22])
    _rows(ws, ([_status(t), *_task_cells(t)] for t in report.overdue.items))
    _truncated(ws, report.overdue)

    s = report.summary
    ws = wb.create_sheet("汇总")
    _header(ws, ["维度", "名称", *COUNT_HEADERS], [8, 20, 8, 10, 8, 10])
    _rows(ws, [["合计", "全部", *_counts(Group(None, s.totals))]])
    _rows(ws, (["乡镇", _name(g.key) or "（县级）", *_counts(g)] for g in s.by_township))
    _rows(ws, (["单位", _name(g.key) or "（本级）", *_counts(g)] for g in s.by_unit))
    _rows(ws, (["角色", _role(g.key) or "（无角色）", *_counts(g)] for g in s.by_role))
    _rows(ws, (["人员", g.key.display_name if g.key else "（未认领/无人）", *_counts(g)] for g in s.by_person))

    ws = wb.create_sheet("账龄")
    _header(ws, ["账龄", "说明", "超时任务数"], [8, 16, 12])
    _rows(ws, ([b, BUCKET_NAMES[b], s.aging[b]] for b in BUCKETS))

    ws = wb.create_sheet("环节用时")
    _header(ws, ["流程", "环节编号", "环节", "办结次数", "平均用时（小时）", "90分位用时（小时）"],
            [18, 18, 18, 10, 16, 18])
    _rows(ws, ([st.process_id, st.bpmn_id, st.name, st.count, st.avg_hours, st.p90_hours] for st in report.step_times))

    ws = wb.create_sheet("升级与无人办理")
    _header(ws, ["类别", *TASK_HEADERS[1:], "升级时间"], [10, 10, 14, 30, 18, 16, 16, 12, 10, 8, 17, 17, 10, 8, 8, 12,
                                                        22, 17])
    _rows(ws, (["已升级", *_task_cells(t), t.escalated_at] for t in report.escalated.items))
    _truncated(ws, report.escalated)
    _rows(ws, (["无人可办", *_task_cells(t), t.escalated_at] for t in report.empty_approver.items))
    _truncated(ws, report.empty_approver)

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
