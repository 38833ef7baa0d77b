"""Tables in and out: read an untrusted .csv or .xlsx upload as rows of text, for the importers (code
tables, holidays…), and write cells that a spreadsheet shows as text, never runs.

What every import needs and none should write twice: a CSV may be UTF-8 (with or without BOM) or
GB18030/GBK, as Excel on a Chinese Windows saves it; an .xlsx must be a real OOXML package (a renamed
zip or exe is refused with a message, never a traceback), its unpacked size is capped and any DOCTYPE
or ENTITY in its XML parts is refused before openpyxl parses it; the size and row count are capped.

Writing goes the other way through the same module: every cell of a CSV or workbook the product writes
(the bank's batch file, the overdue board) passes through `csv_cell` or `xlsx_cell`, so text a user typed
is shown as text and never runs as a formula (CSV injection): see "writing" below.

`read_table(data, filename)` finds the header (the first non-blank row) and yields the data rows,
numbered as in the file (the header is row 1 when nothing is above it), blank rows skipped. Anything that
makes the file unreadable as a table raises TableRefused with one Chinese message. What the columns
mean, and the messages about them, belong to each importer (`map_header` helps with aliases).
"""
import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_UNZIPPED = 64 * 1024 * 1024  # all parts of an .xlsx together, unpacked
MAX_ZIP_ENTRIES = 2_000
MAX_COLUMNS = 50
MAX_BLANK_TOP = 20  # blank rows tolerated above the header
RAW_ROWS_PER_ROW = 4  # blank rows included (formatting often reaches far below the data)


class TableRefused(Exception):
    """The file cannot be read as a table at all (one message, no rows)."""


def cell_text(value) -> str:
    """A cell as text: numbers without a trailing .0 (Excel stores 201 as 201.0), whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def size_problem(size: int, max_bytes: int = MAX_BYTES) -> str | None:
    """The message for a file over the cap, or None."""
    if size > max_bytes:
        return f"文件超过 {max_bytes // (1024 * 1024)} MB，请拆分后再导入"
    return None


# -- CSV ----------------------------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TableRefused("文件以 UTF-8 标记开头，但内容不是合法的 UTF-8") from exc
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise TableRefused("文件是 UTF-16 编码（Excel 的“Unicode 文本”），请另存为“CSV UTF-8”或“CSV（逗号分隔）”")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableRefused("无法识别文件编码：请另存为 UTF-8 或 GB18030（GBK）编码的 CSV")


def csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every line of a CSV, the header first."""
    if data.startswith(b"PK\x03\x04"):
        raise TableRefused("这是 Excel 或压缩文件，不是 CSV；Excel 文件请以 .xlsx 为扩展名上传")
    if b"\x00" in data:
        raise TableRefused("文件含有二进制内容，不是文本 CSV")
    text = decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise TableRefused(f"第 {start} 行不是合法的 CSV：{exc}") from exc
        yield start, cells[:MAX_COLUMNS]


# -- XLSX ---------------------------------------------------------------------------------------------

def check_xlsx_package(data: bytes) -> None:
    """Refuse what is not an OOXML spreadsheet, zip bombs, and XML with a DOCTYPE (entities, XXE)."""
    not_xlsx = "不是有效的 Excel (.xlsx) 文件（可能是改了扩展名的其他文件）；请在 Excel 中另存为 .xlsx 或 CSV"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TableRefused("这是旧版 Excel (.xls) 或其他 Office 文件；请在 Excel 中另存为 .xlsx 或 CSV")
    if not data.startswith(b"PK") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise TableRefused(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names):
                raise TableRefused(not_xlsx)
            if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED:
                raise TableRefused(f"Excel 文件解压后超过 {MAX_UNZIPPED // (1024 * 1024)} MB，请拆分后再导入")
            for info in infos:
                if info.filename.endswith((".xml", ".rels", ".vml")) and \
                        re.search(rb"<!(DOCTYPE|ENTITY)", package.read(info), re.IGNORECASE):
                    raise TableRefused(f"Excel 文件的 {info.filename} 含有 DOCTYPE/ENTITY 声明，出于安全原因拒绝")
    except TableRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile raises many types on a damaged archive
        raise TableRefused(not_xlsx) from exc


def xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every row of the first sheet, the header first."""
    check_xlsx_package(data)
    import openpyxl

    try:
        with warnings.catch_warnings():
            # Files from other tools trigger openpyxl's "unsupported extension" warnings; they do not matter here.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                if not workbook.worksheets:
                    raise TableRefused("Excel 文件里没有工作表")
                sheet = workbook.worksheets[0]
                rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
                for number, cells in enumerate(rows, start=1):
                    yield number, [cell_text(c) for c in cells]
            finally:
                workbook.close()
    except TableRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises anything (KeyError, ValueError…) on a bad file
        raise TableRefused(f"无法读取 Excel 文件：{type(exc).__name__}；请在 Excel 中另存为 .xlsx 或 CSV") from exc


def rows_of(data: bytes, filename: str) -> Iterator[tuple[int, list[str]]]:
    """Every row of the file, by its extension (.csv or .xlsx), numbered as in the file."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        return csv_rows(data)
    if suffix == ".xlsx":
        return xlsx_rows(data)
    if suffix == ".xls":
        raise TableRefused("不支持旧版 Excel (.xls)；请在 Excel 中另存为 .xlsx 或 CSV")
    raise TableRefused(f"只能导入 .xlsx 或 .csv 文件，{filename!r} 不是")


# -- writing: text stays text ------------------------------------------------------------------------

# A spreadsheet reads a cell starting with one of these as a formula (= + - @), also after leading spaces,
# tabs or line breaks, which Excel and LibreOffice skip when they import a CSV (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@")


def looks_like_formula(text: str) -> bool:
    return text.lstrip()[:1] in FORMULA_STARTS or text[:1] in ("\t", "\r", "\n")


def csv_cell(value):
    """A value for csv.writer: text a spreadsheet would run gets a leading apostrophe; numbers stay as they are."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def xlsx_cell(ws, value):
    """A value for a write-only openpyxl sheet: text a spreadsheet would run becomes a text cell, quote-prefixed.

    openpyxl writes any string starting with "=" as a formula; a typed string cell is shown exactly as
    written, and the quote prefix keeps it text when someone edits it in Excel (as typing '=… would).
    """
    if not (isinstance(value, str) and looks_like_formula(value)):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value)
    cell.data_type, cell.quotePrefix = "s", True
    return cell


# -- the table: header and data rows ------------------------------------------------------------------

def _blank(cells: list) -> bool:
    return not any(cell_text(c) for c in cells)


@dataclass
class Table:
    """A file's header row and an iterator over its non-blank data rows (which may raise TableRefused)."""

    header_row: int
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]


def read_table(data: bytes, filename: str, *, max_rows: int = MAX_ROWS) -> Table:
    """The header (first non-blank row, at most MAX_BLANK_TOP rows down) and the data rows after it.

    Iterating the rows raises TableRefused past `max_rows` data rows (or that many times
    RAW_ROWS_PER_ROW rows, blank ones included).
    """
    source = iter(rows_of(data, filename))
    header = next(source, None)
    while header is not None and _blank(header[1]) and header[0] <= MAX_BLANK_TOP:
        header = next(source, None)  # blank rows above the header
    if header is None:
        raise TableRefused("文件是空的，缺少表头行")
    if _blank(header[1]):
        raise TableRefused(f"前 {MAX_BLANK_TOP} 行都是空行，找不到表头行")
    return Table(header[0], [cell_text(c).lstrip("\ufeff").strip() for c in header[1]],
                 _data_rows(source, max_rows))


def _data_rows(source: Iterator[tuple[int, list[str]]], max_rows: int) -> Iterator[tuple[int, list[str]]]:
    count = 0
    for raw_count, (number, cells) in enumerate(source, start=1):
        blank = _blank(cells)
        if raw_count > RAW_ROWS_PER_ROW * max_rows or count >= max_rows and not blank:
            raise TableRefused(f"超过 {max_rows} 行，请拆分后再导入")
        if blank:
            continue
        count += 1
        yield number, cells


@dataclass
class Header:
    """Which column holds each field, and the labels that were not understood or came twice."""

    columns: dict[str, int] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)


def map_header(labels: list[str], aliases: Mapping[str, str]) -> Header:
    """Map header labels to fields by `aliases` (keys lower-case); blank labels are ignored."""
    header = Header()
    for index, label in enumerate(labels):
        if not label:
            continue
        column = aliases.get(label.lower())
        if column is None:
            header.unknown.append(label)
        elif column in header.columns:
            header.repeated.append(label)
        else:
            header.columns[column] = index
    return header


def cell(cells: list[str], columns: Mapping[str, int], column: str) -> str:
    """The text of `column` in a data row ("" when the column is absent or the row is short)."""
    index = columns.get(column)
    return cell_text(cells[index]) if index is not None and index < len(cells) else ""
