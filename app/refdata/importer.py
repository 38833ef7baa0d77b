"""Import code tables from .xlsx or .csv: every row checked first, then all rows or none.

Columns `kind, code, name, parent_code, gov_code, active` (or 类别, 编码, 名称, 上级编码, 政府经济分类,
启用); `kind` may instead come from the caller (`--kind`). The header is the first non-blank row. A CSV may be
UTF-8 (with or without BOM) or GB18030/GBK, as Excel on a Chinese Windows saves it.

Each problem names the row as numbered in the file (the header is row 1) and the field. If any row is
wrong, nothing is written and RefdataImportError carries the report. Otherwise each row is upserted by
(kind, code) in the caller's transaction (the caller commits); codes not in the file are left alone.

The file is untrusted: app/tabular.py reads it (encodings, size and row caps, .xlsx package checks:
a renamed zip or exe is refused with a message, never a traceback; DOCTYPE/ENTITY refused).
"""
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import tabular
from app.approvals.errors import InvalidInput
from app.models import RefCode, RefKind
from app.refdata.rules import (
    LEVELS,
    MAX_NAME,
    code_problem,
    derived_parent,
    kind_label,
    parent_problem,
    parse_kind,
)
from app.tabular import MAX_BYTES, TableRefused, map_header, read_table, size_problem

MAX_ROWS = tabular.MAX_ROWS  # read at each import, so a test may lower it

COLUMNS = ("kind", "code", "name", "parent_code", "gov_code", "active")
HEADER_ALIASES = {
    "kind": "kind", "类别": "kind", "代码表": "kind", "代码类别": "kind",
    "code": "code", "编码": "code", "代码": "code",
    "name": "name", "名称": "name",
    "parent_code": "parent_code", "parent": "parent_code", "上级编码": "parent_code", "上级代码": "parent_code",
    "gov_code": "gov_code", "政府经济分类": "gov_code", "政府预算经济分类": "gov_code",
    "政府经济分类编码": "gov_code", "政府预算支出经济分类": "gov_code",
    "active": "active", "启用": "active", "是否启用": "active",
}
TRUE_WORDS = {"1", "true", "t", "yes", "y", "是", "启用", "有效"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "否", "停用", "无效"}
FIELD_NAMES = {"kind": "类别", "code": "编码", "name": "名称", "parent_code": "上级编码",
               "gov_code": "政府经济分类", "active": "启用", "file": "文件"}


@dataclass(frozen=True)
class ImportProblem:
    row: int | None  # as numbered in the file (header = 1); None for the file as a whole
    field: str  # one of COLUMNS, or "file"
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        if self.field == "file":
            return f"{where}：{self.message}"
        return f"{where} {FIELD_NAMES.get(self.field, self.field)}（{self.field}）：{self.message}"


@dataclass
class ImportReport:
    filename: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kinds: Counter = field(default_factory=Counter)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        kinds = "，".join(f"{kind_label(k)} {self.kinds[k]}" for k in RefKind if self.kinds[k])
        return (f"{self.filename}：共 {self.rows} 行（{kinds or '无'}）；"
                f"新增 {self.added}，更新 {self.updated}，未变 {self.unchanged}")


class RefdataImportError(InvalidInput):
    """The file was refused as a whole; `report.problems` lists every problem found."""

    def __init__(self, report: ImportReport):
        self.report = report
        details: dict[str, list[str]] = {}
        for p in report.problems:
            key = f"第{p.row}行.{p.field}" if p.row else "file"
            details.setdefault(key, []).append(p.message)
        super().__init__(f"{report.filename} 有 {len(report.problems)} 处问题，未导入任何数据", details)


@dataclass
class Row:
    """One row of codes, as read (row number) and parsed."""

    row: int | None
    kind: RefKind | None
    code: str
    name: str
    parent_code: str | None
    gov_code: str | None
    active: bool | None


# -- reading ------------------------------------------------------------------------------------------

def _header(number: int, labels: list[str], problems: list[ImportProblem]) -> dict[str, int]:
    header = map_header(labels, HEADER_ALIASES)
    for label in header.unknown:
        problems.append(ImportProblem(number, "file", f"不认识的列“{label}”；可用的列：{'、'.join(COLUMNS)}"
                                      "（或 类别、编码、名称、上级编码、政府经济分类、启用）"))
    for label in header.repeated:
        problems.append(ImportProblem(number, "file", f"列“{label}”重复"))
    return header.columns


def _parse_active(text: str) -> bool | None:
    word = text.strip().lower()
    if not word:
        return True
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def read_rows(data: bytes, filename: str, kind: str | None, problems: list[ImportProblem]) -> list[Row]:
    """Parse the file into rows, noting every problem of form (not yet of content against other rows)."""
    default_kind = None
    if kind:
        default_kind = parse_kind(kind)
        if default_kind is None:
            problems.append(ImportProblem(None, "file", f"不认识的类别 {kind!r}；可用：{'、'.join(RefKind)}"))
            return []
    try:
        table = read_table(data, filename, max_rows=MAX_ROWS)
        columns = _header(table.header_row, table.header, problems)
        missing = [c for c in ("code", "name") if c not in columns]
        if "kind" not in columns and default_kind is None:
            missing.insert(0, "kind")
        if missing:
            problems.append(ImportProblem(table.header_row, "file", f"缺少列：{'、'.join(missing)}"
                                          + ("（类别也可用 --kind 指定）" if "kind" in missing else "")))
        if problems:
            return []
        return [_parse_row(number, cells, columns, default_kind, problems) for number, cells in table.rows]
    except TableRefused as exc:
        problems.append(ImportProblem(None, "file", str(exc)))
        return []


def _parse_row(number: int, cells: list[str], columns: dict[str, int], default_kind: RefKind | None,
               problems: list[ImportProblem]) -> Row:
    def cell(column: str) -> str:
        return tabular.cell(cells, columns, column)

    def problem(column: str, message: str) -> None:
        problems.append(ImportProblem(number, column, message))

    kind = default_kind
    kind_text = cell("kind")
    if kind_text:
        kind = parse_kind(kind_text)
        if kind is None:
            problem("kind", f"不认识的类别“{kind_text}”；可用：{'、'.join(RefKind)}")
        elif default_kind is not None and kind != default_kind:
            problem("kind", f"类别 {kind} 与指定的 --kind {default_kind} 不一致")
            kind = None
    elif kind is None:
        problem("kind", "类别不能为空")

    code = cell("code")
    if kind is not None and (message := code_problem(kind, code)):
        problem("code", message)
    elif kind is None and not code:
        problem("code", "编码不能为空")

    name = cell("name")
    if not name:
        problem("name", "名称不能为空")
    elif len(name) > MAX_NAME:
        problem("name", f"名称不能超过 {MAX_NAME} 个字符（现有 {len(name)} 个）")

    active = _parse_active(cell("active"))
    if active is None:
        problem("active", f"“{cell('active')}”不是有效的启用标记；请填 1/0、是/否 或 true/false")
    return Row(number, kind, code, name, cell("parent_code") or None, cell("gov_code") or None, active)


# -- checking rows against each other and the database ------------------------------------------------

def check_rows(session: Session, rows: list[Row], problems: list[ImportProblem]) -> None:
    """Duplicates, parents, government codes (C15) and parent loops, across the file and the database."""
    in_file: dict[tuple[str, str], Row] = {}
    for row in rows:
        if row.kind is None or code_problem(row.kind, row.code):
            continue
        key = (row.kind, row.code)
        if key in in_file:
            problems.append(ImportProblem(row.row, "code", f"编码 {row.code} 在第 {in_file[key].row} 行已出现"))
        else:
            in_file[key] = row
    kinds = {row.kind for row in rows if row.kind is not None}
    if RefKind.ECON_DEPT in kinds:
        kinds.add(RefKind.ECON_GOV)
    in_db: dict[tuple[str, str], str | None] = {
        (kind, code): parent for kind, code, parent in session.execute(
            select(RefCode.kind, RefCode.code, RefCode.parent_code).where(RefCode.kind.in_(kinds)))
    } if kinds else {}

    def known(kind: str, code: str) -> bool:
        return (kind, code) in in_file or (kind, code) in in_db

    for row in rows:
        if row.kind is None or code_problem(row.kind, row.code) or in_file.get((row.kind, row.code)) is not row:
            continue
        if row.parent_code is None:
            row.parent_code = derived_parent(row.kind, row.code)
        if message := parent_problem(row.kind, row.code, row.parent_code):
            problems.append(ImportProblem(row.row, "parent_code", message))
        elif row.parent_code and not known(row.kind, row.parent_code):
            problems.append(ImportProblem(row.row, "parent_code", f"上级编码 {row.parent_code} 在文件和已有"
                                          f"{kind_label(row.kind)}中都不存在"))
        _check_gov_code(row, known, problems)
    _check_loops(rows, in_file, in_db, problems)


def _check_gov_code(row: Row, known, problems: list[ImportProblem]) -> None:
    def problem(message: str) -> None:
        problems.append(ImportProblem(row.row, "gov_code", message))

    if row.kind != RefKind.ECON_DEPT:
        if row.gov_code:
            problem("只有部门预算经济分类（econ_dept）可填政府经济分类")
        return
    if len(row.code) == LEVELS[RefKind.ECON_DEPT][0]:
        if row.gov_code:
            problem("类级编码不对应政府经济分类，请留空（在款级编码上填写）")
        return
    if not row.gov_code:
        problem("款级部门预算经济分类须填对应的政府经济分类（C15）")
    elif code_problem(RefKind.ECON_GOV, row.gov_code) or len(row.gov_code) != 5:
        problem(f"{row.gov_code} 不是 5 位（款级）政府预算经济分类编码")
    elif not known(RefKind.ECON_GOV, row.gov_code):
        problem(f"政府预算经济分类 {row.gov_code} 在文件和已有代码中都不存在")


def _check_loops(rows: list[Row], in_file: dict, in_db: dict, problems: list[ImportProblem]) -> None:
    """A parent chain must end. Classifications and fund natures cannot loop (parents are shorter)."""
    parents = {**in_db, **{key: row.parent_code for key, row in in_file.items()}}
    for row in rows:
        if row.kind is None or row.kind in LEVELS or row.kind == RefKind.FUND_NATURE:
            continue
        if in_file.get((row.kind, row.code)) is not row:
            continue
        chain = [row.code]
        parent = row.parent_code
        while parent is not None:
            if parent in chain:
                loop = " → ".join([*chain, parent])
                problems.append(ImportProblem(row.row, "parent_code", f"上级编码形成循环：{loop}"))
                break
            chain.append(parent)
            parent = parents.get((row.kind, parent))


# -- writing ------------------------------------------------------------------------------------------

def upsert_rows(session: Session, rows: list[Row], now, report: ImportReport) -> None:
    """Insert new codes, update changed ones (updated_at = now), count the unchanged; flushes, no commit."""
    kinds = {row.kind for row in rows}
    existing = {(r.kind, r.code): r for r in session.scalars(select(RefCode).where(RefCode.kind.in_(kinds)))}
    for row in rows:
        report.kinds[row.kind] += 1
        values = {"name": row.name, "parent_code": row.parent_code, "gov_code": row.gov_code,
                  "active": row.active}
        current = existing.get((row.kind, row.code))
        if current is None:
            session.add(RefCode(kind=str(row.kind), code=row.code, updated_at=now, **values))
            report.added += 1
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            current.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()


def _order(problem: ImportProblem) -> tuple:
    column = COLUMNS.index(problem.field) if problem.field in COLUMNS else -1
    return (problem.row or 0, column)


def load_rows(session: Session, rows: list[Row], now, report: ImportReport) -> ImportReport:
    """Check `rows` against each other and the database, then upsert them all, or raise with every problem."""
    check_rows(session, rows, report.problems)
    if report.problems:
        report.problems.sort(key=_order)
        raise RefdataImportError(report)
    report.rows = len(rows)
    upsert_rows(session, rows, now, report)
    return report


def import_file(session: Session, path_or_bytes: str | Path | bytes, filename: str | None = None, *,
                kind: str | None = None, now) -> ImportReport:
    """Import a code table file (.xlsx or .csv); all rows or none. Raises RefdataImportError with the report."""
    report = ImportReport(filename or "upload")
    if isinstance(path_or_bytes, bytes | bytearray):
        size = len(path_or_bytes)
    else:
        path = Path(path_or_bytes)
        report.filename = filename or path.name
        size = path.stat().st_size
    if message := size_problem(size, MAX_BYTES):
        report.problems.append(ImportProblem(None, "file", message))
        raise RefdataImportError(report)
    data = bytes(path_or_bytes) if isinstance(path_or_bytes, bytes | bytearray) else path.read_bytes()
    rows = read_rows(data, report.filename, kind, report.problems)
    if any(p.field == "file" for p in report.problems):
        raise RefdataImportError(report)
    return load_rows(session, rows, now, report)
