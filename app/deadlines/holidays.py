"""A township's table of local days (LocalHoliday), imported from .csv or .xlsx: every row checked, then all or none.

Columns 日期 (YYYY-MM-DD; 2026/10/1 as Excel writes dates into a CSV is read too), 类型 (休息/放假/holiday:
a local day off; 上班/调休上班/workday: a make-up working day on a day otherwise off) and 名称; English
headers date, type, name work too. The header is the first non-blank row. The file is read by
app/tabular.py (encodings, size and row caps, .xlsx package checks).

Each problem names the row as numbered in the file (the header is row 1) and the column: "第 3 行 日期：…".
A bad date, an unknown type, an empty name or a date given twice refuses the whole file: nothing is
written and HolidayImportError carries the report. Otherwise each row is upserted by (township, day) in
the caller's transaction (flushed, not committed); the township's days not in the file are left alone.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import tabular
from app.approvals.errors import Conflict, InvalidInput, NotFound
from app.models import LocalHoliday, Org, OrgKind
from app.tabular import TableRefused, map_header, read_table, size_problem

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5_000  # thirteen years of every day: a holiday table is far smaller
MAX_NAME = 64  # LocalHoliday.name
FIRST_YEAR, LAST_YEAR = 2000, 2100  # outside: a typo (0226-10-01), not a holiday

COLUMNS = ("day", "kind", "name")
FIELD_NAMES = {"day": "日期", "kind": "类型", "name": "名称"}
HEADER_ALIASES = {
    "日期": "day", "date": "day", "day": "day",
    "类型": "kind", "type": "kind", "kind": "kind",
    "名称": "name", "name": "name", "节日": "name", "说明": "name",
}
KIND_WORDS = {"休息": False, "放假": False, "holiday": False, "上班": True, "调休上班": True, "workday": True}
KIND_LABELS = {False: "休息", True: "上班"}
KINDS_HINT = "请填 休息、放假、上班 或 调休上班（或 holiday、workday）"
_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?:[ T]00:00(?::00)?)?")


@dataclass(frozen=True)
class HolidayProblem:
    row: int | None  # as numbered in the file (header = 1); None for the file as a whole
    field: str  # one of COLUMNS, or "file"
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        if self.field == "file":
            return f"{where}：{self.message}"
        return f"{where} {FIELD_NAMES[self.field]}：{self.message}"


@dataclass
class HolidayImportReport:
    filename: str
    rows: int = 0
    days_off: int = 0
    workdays: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[HolidayProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (f"{self.filename}：共 {self.rows} 行（休息 {self.days_off}，上班 {self.workdays}）；"
                f"新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}")


class HolidayImportError(InvalidInput):
    """The file was refused as a whole; `report.problems` lists every problem, row by row."""

    def __init__(self, report: HolidayImportReport):
        self.report = report
        details: dict[str, list[str]] = {}
        for p in report.problems:
            key = f"第{p.row}行.{p.field}" if p.row and p.field != "file" else (f"第{p.row}行" if p.row else "file")
            details.setdefault(key, []).append(p.message)
        super().__init__(f"{report.filename} 有 {len(report.problems)} 处问题，未导入任何数据", details)


@dataclass(frozen=True)
class HolidayRow:
    row: int
    day: date | None
    is_workday: bool | None
    name: str


# -- reading ------------------------------------------------------------------------------------------

def parse_day(text: str) -> tuple[date | None, str | None]:
    """(the date, None) or (None, what is wrong with it)."""
    if not text:
        return None, "日期不能为空"
    match = _DATE.fullmatch(text)
    if match is None:
        return None, f"“{text}”不是日期；请写成 YYYY-MM-DD，如 2026-10-08"
    year, month, day = int(match[1]), int(match[3]), int(match[4])
    try:
        parsed = date(year, month, day)
    except ValueError:
        return None, f"{text} 不是存在的日期"
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None, f"{text} 的年份不在 {FIRST_YEAR} 到 {LAST_YEAR} 之间"
    return parsed, None


def _parse_row(number: int, cells: list[str], columns: dict[str, int],
               problems: list[HolidayProblem]) -> HolidayRow:
    def problem(column: str, message: str) -> None:
        problems.append(HolidayProblem(number, column, message))

    day, message = parse_day(tabular.cell(cells, columns, "day"))
    if message:
        problem("day", message)
    kind_text = tabular.cell(cells, columns, "kind")
    is_workday = KIND_WORDS.get(kind_text.lower())
    if not kind_text:
        problem("kind", f"类型不能为空；{KINDS_HINT}")
    elif is_workday is None:
        problem("kind", f"不认识的类型“{kind_text}”；{KINDS_HINT}")
    name = tabular.cell(cells, columns, "name")
    if not name:
        problem("name", "名称不能为空")
    elif len(name) > MAX_NAME:
        problem("name", f"名称不能超过 {MAX_NAME} 个字符（现有 {len(name)} 个）")
    return HolidayRow(number, day, is_workday, name)


def read_holidays(data: bytes, filename: str, problems: list[HolidayProblem]) -> list[HolidayRow]:
    """Parse the file into rows, noting every problem of form and every date given twice."""
    try:
        table = read_table(data, filename, max_rows=MAX_ROWS)
        header = map_header(table.header, HEADER_ALIASES)
        for label in header.unknown:
            problems.append(HolidayProblem(table.header_row, "file",
                                           f"不认识的列“{label}”；可用的列：日期、类型、名称"))
        for label in header.repeated:
            problems.append(HolidayProblem(table.header_row, "file", f"列“{label}”重复"))
        missing = [FIELD_NAMES[c] for c in COLUMNS if c not in header.columns]
        if missing:
            problems.append(HolidayProblem(table.header_row, "file", f"缺少列：{'、'.join(missing)}"))
        if problems:
            return []
        rows = [_parse_row(number, cells, header.columns, problems) for number, cells in table.rows]
    except TableRefused as exc:
        problems.append(HolidayProblem(None, "file", str(exc)))
        return []
    seen: dict[date, int] = {}
    for row in rows:
        if row.day is None:
            continue
        if row.day in seen:
            problems.append(HolidayProblem(row.row, "day", f"{row.day} 在第 {seen[row.day]} 行已出现"))
        else:
            seen[row.day] = row.row
    return rows


def _order(problem: HolidayProblem) -> tuple:
    return (problem.row or 0, COLUMNS.index(problem.field) if problem.field in COLUMNS else -1)


# -- writing ------------------------------------------------------------------------------------------

def _upsert(session: Session, township_id: int, rows: list[HolidayRow], now: datetime,
            report: HolidayImportReport) -> None:
    existing = {h.day: h for h in session.scalars(select(LocalHoliday).where(LocalHoliday.township_id == township_id))}
    for row in rows:
        current = existing.get(row.day)
        if current is None:
            session.add(LocalHoliday(township_id=township_id, day=row.day, is_workday=row.is_workday, name=row.name,
                                     created_at=now))
            report.added += 1
        elif (current.is_workday, current.name) != (row.is_workday, row.name):
            current.is_workday, current.name = row.is_workday, row.name
            report.updated += 1
        else:
            report.unchanged += 1


def import_holidays(session: Session, township_id: int, data: bytes, filename: str,
                    now: datetime) -> HolidayImportReport:
    """Import a township's local days from a .csv or .xlsx; all rows or none (flushed, the caller commits).

    Raises HolidayImportError (an InvalidInput) listing every problem row by row, NotFound for a
    township that does not exist, Conflict when another import of the same days won a race.
    """
    township = session.get(Org, township_id)
    if township is None or township.kind != OrgKind.TOWNSHIP:
        raise NotFound("没有这个乡镇")
    report = HolidayImportReport(filename or "upload")
    if message := size_problem(len(data), MAX_BYTES):
        report.problems.append(HolidayProblem(None, "file", message))
        raise HolidayImportError(report)
    rows = read_holidays(bytes(data), report.filename, report.problems)
    if not rows and not report.problems:
        report.problems.append(HolidayProblem(None, "file", "文件只有表头，没有数据行"))
    if report.problems:
        report.problems.sort(key=_order)
        raise HolidayImportError(report)
    report.rows = len(rows)
    report.workdays = sum(1 for r in rows if r.is_workday)
    report.days_off = report.rows - report.workdays
    try:
        with session.begin_nested():
            _upsert(session, township_id, rows, now, report)
    except IntegrityError as exc:
        raise Conflict("本乡镇的节假日正被他人同时导入，请重试") from exc
    return report


def holidays_of(session: Session, township_id: int, year: int | None = None) -> list[LocalHoliday]:
    """A township's local days in date order, of one year if given."""
    query = select(LocalHoliday).where(LocalHoliday.township_id == township_id)
    if year is not None:
        query = query.where(LocalHoliday.day >= date(year, 1, 1), LocalHoliday.day <= date(year, 12, 31))
    return list(session.scalars(query.order_by(LocalHoliday.day)))
