"""The payment batch file: what the bank (and the person uploading it) receives."""
from decimal import Decimal
from types import SimpleNamespace

from app.bank import BATCH_COLUMNS, batch_file


def test_the_batch_file_has_a_header_two_decimal_amounts_and_no_formula_a_spreadsheet_would_run():
    payment = SimpleNamespace(bank_ref="ZF202603020000000001", payee_name="=HYPERLINK(\"http://x\")",
                              payee_account="6222020200012345678", payee_bank="农行示范镇支行",
                              amount=Decimal("800"), purpose="-2+3", org_id=7)
    lines = batch_file(SimpleNamespace(), [payment], {7: "农业农村办"}).split("\r\n")
    assert lines[0] == ",".join(BATCH_COLUMNS)
    assert lines[1] == ("1,ZF202603020000000001,\"'=HYPERLINK(\"\"http://x\"\")\",6222020200012345678,"
                        "农行示范镇支行,800.00,'-2+3,农业农村办")
