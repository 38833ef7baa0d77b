"""From an HTML post to form data: line-editor cells into rows, bank accounts without spaces, the
widgets a schema picks, the words a format error uses, and a box a step must tick."""
import json
from decimal import Decimal

from werkzeug.datastructures import MultiDict

from app.config import ROOT
from app.processes.forms import coerce_form_strings, pattern_hint, unconfirmed_fields, validate_form_data
from app.web.forms import build_fields, editing_only, posted_values


def form(process: str, step: str) -> dict:
    return json.loads((ROOT / "forms" / process / f"{step}.json").read_text(encoding="utf-8"))


DECLARATION = form("budget_declaration", "apply")
PAYMENT = form("payment", "apply")


def cells(i: int, amount: str, **more) -> dict:
    return {f"lines-{i}-project_code": "SFZ26NYB3000000001", f"lines-{i}-func_code": "2130199",
            f"lines-{i}-econ_dept_code": "30213", f"lines-{i}-fund_nature_code": "111",
            f"lines-{i}-amount": amount, **{f"lines-{i}-{k}": v for k, v in more.items()}}


def test_line_cells_become_rows_in_row_order_and_blank_rows_are_left_out():
    post = MultiDict({"title": "申报", "fiscal_year": "2026", **cells(10, "300"), **cells(2, "100", earmarked="on"),
                      "lines-5-amount": " ", "lines-x-amount": "9", "csrf_token": "t"})
    values = posted_values(DECLARATION, post)
    assert [row["amount"] for row in values["lines"]] == ["100", "300"]
    data = coerce_form_strings(DECLARATION, values)
    assert [row["amount"] for row in data["lines"]] == [Decimal("100"), Decimal("300")]
    assert [row["earmarked"] for row in data["lines"]] == [True, False]
    assert data["fiscal_year"] == 2026 and "csrf_token" not in data
    assert validate_form_data(DECLARATION, data) == {}


def test_the_editors_buttons_add_or_remove_a_row_without_submitting():
    added = MultiDict({**cells(0, "100"), "_add_row": "lines"})
    assert editing_only(added) and len(posted_values(DECLARATION, added)["lines"]) == 2
    removed = MultiDict({**cells(0, "100"), **cells(1, "200"), "_remove_row": "lines-0"})
    assert [row["amount"] for row in posted_values(DECLARATION, removed)["lines"]] == ["200"]
    assert not editing_only(MultiDict(cells(0, "1")))


def test_an_error_in_a_line_is_shown_on_its_row_and_cell():
    values = posted_values(DECLARATION, MultiDict({**cells(0, "100"), **cells(1, "abc")}))
    errors = validate_form_data(DECLARATION, coerce_form_strings(DECLARATION, values))
    assert errors == {"lines.1.amount": ["须为数字"], "title": ["必填"], "fiscal_year": ["必填"]}
    [lines] = [f for f in build_fields(DECLARATION, values, errors, submitted=True) if f.name == "lines"]
    assert lines.widget == "lines" and len(lines.rows) == 2
    amounts = [next(c for c in row if c.name.endswith("-amount")) for row in lines.rows]
    assert [(c.name, c.value, c.errors) for c in amounts] == [
        ("lines-0-amount", "100", []), ("lines-1-amount", "abc", ["须为数字"])]
    assert lines.total_value == "100.00"
    assert [c.name for c in lines.columns][0] == "lines-__i__-project_code"


def test_a_missing_cell_is_named_by_its_row_and_column():
    data = {"title": "申报", "fiscal_year": 2026, "lines": [{"amount": Decimal("1")}]}
    errors = validate_form_data(DECLARATION, data)
    assert errors["lines.0.project_code"] == ["必填"] and "lines.0" not in errors


def test_widgets_come_from_the_schema_and_defaults_are_preselected():
    fields = {f.name: f for f in build_fields(PAYMENT)}
    assert (fields["indicator_code"].widget, fields["indicator_code"].amount_field) == ("indicator", "amount")
    assert fields["project_code"].widget == "project"
    assert (fields["econ_dept_code"].widget, fields["econ_dept_code"].refkind) == ("refcode", "econ_dept")
    assert fields["settle_mode"].value == "transfer"
    assert fields["payee_account"].attrs["inputmode"] == "numeric"
    submitted = {f.name: f for f in build_fields(PAYMENT, {"title": "x"}, submitted=True)}
    assert submitted["settle_mode"].value == ""  # what the user chose stands, even no choice


def test_a_bank_account_loses_its_spaces_before_validation():
    data = coerce_form_strings(PAYMENT, {"payee_account": " 6222 0202-0001 2345 678 "})
    assert data["payee_account"] == "6222020200012345678"
    assert coerce_form_strings(PAYMENT, {"payee_name": "示范 镇"})["payee_name"] == "示范 镇"


def test_a_format_error_says_what_is_expected():
    assert pattern_hint({"pattern": "^[0-9]{8,32}$"}) == "格式不正确，须为 8–32 位数字"
    assert pattern_hint({"pattern": "^[0-9A-Z]{6,40}$"}) == "格式不正确，须为 6–40 位数字或大写字母"
    assert pattern_hint({"pattern": "^[0-9]{4}$"}) == "格式不正确，须为 4 位数字"
    assert pattern_hint({"pattern": "^(a|b)$"}) == "格式不正确"
    plan = form("fund_plan", "apply")
    assert validate_form_data(plan, {"title": "三月", "month": "2026-3", "lines": []})["month"] == [
        "格式不正确，须为年月，如 2026-03"]
    errors = validate_form_data(PAYMENT, {"payee_account": "12"})
    assert errors["payee_account"] == ["须为 8–32 位数字（可带空格）"]


def test_a_box_the_step_must_tick_is_named_when_unticked():
    review = form("payment", "finance_review")
    assert unconfirmed_fields(review, {"documents_complete": False}) == {
        "documents_complete": ["须确认“票据齐全、合规”后才能提交"]}
    assert unconfirmed_fields(review, {"documents_complete": True}) == {}
    assert unconfirmed_fields(form("payment", "unit_head_review"), {}) == {}


def test_amounts_keyed_by_the_plans_indicators_are_one_input_each():
    review = form("fund_plan", "finance_review")
    stored = {"lines": [{"indicator_code": "SFZ2026ZB00000001", "amount": Decimal("500.00")},
                        {"indicator_code": "SFZ2026ZB00000002", "amount": Decimal("300.00")}]}
    [amounts] = build_fields(review, stored)
    assert amounts.widget == "map"
    assert [c.name for c in amounts.entries] == ["approved_amounts[SFZ2026ZB00000001]",
                                                 "approved_amounts[SFZ2026ZB00000002]"]
    post = MultiDict({"approved_amounts[SFZ2026ZB00000001]": "400", "approved_amounts[SFZ2026ZB00000002]": " ",
                      "decision": "approve"})
    values = posted_values(review, post)
    data = coerce_form_strings(review, values)
    assert data == {"approved_amounts": {"SFZ2026ZB00000001": Decimal("400")}}
    assert validate_form_data(review, data) == {}
    assert coerce_form_strings(review, posted_values(review, MultiDict({"decision": "approve"}))) == {}
    [again] = build_fields(review, values, {"approved_amounts.SFZ2026ZB00000001": ["不能小于 0"]}, submitted=True)
    assert [(c.value, c.errors) for c in again.entries] == [("400", ["不能小于 0"]), (" ", [])]
