"""What the product writes into CSV files and workbooks stays text: a cell that a spreadsheet would run as
a formula (=, +, -, @, also after leading spaces, tabs or line breaks) is neutralised, one helper for all."""
import csv
import io
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from openpyxl import Workbook

from app.bank import batch_file
from app.tabular import csv_cell, looks_like_formula, xlsx_cell

HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", " =1+1", "\t+1", "@SUM(A1:A9)", "-2+3", "+86 123", "\r=1", "\n-1",
           "\u3000=1+1"]
HARMLESS = ["发票 2 张", "a=b", "100.00", "", "邮箱 a@b.cn", "'已加引号"]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_a_spreadsheet_would_run_is_recognised(text):
    assert looks_like_formula(text)


@pytest.mark.parametrize("text", HARMLESS)
def test_plain_text_is_left_alone(text):
    assert not looks_like_formula(text)
    assert csv_cell(text) == text


def test_a_csv_cell_gets_an_apostrophe_and_numbers_are_untouched():
    assert [csv_cell(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]
    assert (csv_cell(3), csv_cell(Decimal("-5")), csv_cell(None)) == (3, Decimal("-5"), None)


def test_a_workbook_cell_is_written_as_quote_prefixed_text_and_reads_back_unchanged():
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append([xlsx_cell(ws, t) for t in HOSTILE + HARMLESS] + [xlsx_cell(ws, 7)])
    out = io.BytesIO()
    wb.save(out)
    [row] = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["s"].iter_rows()
    assert [c.value for c in row] == HOSTILE + [t or None for t in HARMLESS] + [7]
    assert all(c.data_type == "s" and c.quotePrefix for c in row[:len(HOSTILE)])
    assert b"<f>" not in _sheet_xml(out.getvalue())


def _sheet_xml(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return b"".join(package.read(n) for n in package.namelist() if n.startswith("xl/worksheets/"))


def test_every_text_column_of_the_bank_batch_file_is_neutralised():
    payments = [SimpleNamespace(bank_ref=f"ZF{n:018d}", payee_name=text, payee_account=text, payee_bank=text,
                                amount=Decimal("800"), purpose=text, org_id=7) for n, text in enumerate(HOSTILE, 1)]
    rows = list(csv.reader(io.StringIO(batch_file(SimpleNamespace(), payments, {7: "@付款单位"}), newline="")))
    for row, text in zip(rows[1:], HOSTILE, strict=True):
        assert row[2:5] == ["'" + text] * 3 and row[6] == "'" + text and row[7] == "'@付款单位"
        assert row[5] == "800.00"
