"""Task forms: JSON Schema checked at deploy, submitted data validated per field in Chinese, money normalised."""
import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.processes.forms import (
    check_form_schema,
    coerce_form_strings,
    normalize_form_data,
    validate_form_data,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def apply_form():
    return json.loads((REPO / "forms" / "expense_claim" / "apply.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def finance_form():
    return json.loads((REPO / "forms" / "expense_claim" / "finance_review.json").read_text(encoding="utf-8"))


VALID_CLAIM = {"title": "购买办公用品", "amount": Decimal("1200.50"), "expense_type": "办公费", "payee": "镇供销社"}


def obj(**properties) -> dict:
    return {"type": "object", "properties": properties}


# -- check_form_schema ----------------------------------------------------------------------------------


def test_the_demo_forms_are_usable():
    for path in sorted((REPO / "forms" / "expense_claim").glob("*.json")):
        assert check_form_schema(json.loads(path.read_text(encoding="utf-8"))) == [], path.name


@pytest.mark.parametrize("schema", [[], "form", None, 3])
def test_a_form_that_is_not_an_object_is_refused(schema):
    assert check_form_schema(schema) == ["表单须为 JSON 对象"]


def test_an_invalid_json_schema_is_refused():
    [problem] = check_form_schema(obj(amount={"type": "money"}))
    assert problem.startswith("不是有效的 JSON Schema")


def test_a_form_whose_type_is_not_object_is_refused():
    assert check_form_schema({"type": "array"}) == ['表单的 "type" 须为 "object"']


@pytest.mark.parametrize("name", ["Amount", "1st", "a-b", "金额", "_private", "x" * 64])
def test_field_names_must_be_lowercase_identifiers(name):
    [problem] = check_form_schema(obj(**{name: {"type": "string"}}))
    assert repr(name) in problem and "标识符" in problem


@pytest.mark.parametrize("name", ["amount", "a", "budget_subject_2", "x" * 63])
def test_lowercase_identifier_field_names_are_accepted(name):
    assert check_form_schema(obj(**{name: {"type": "string"}})) == []


@pytest.mark.parametrize("name", ["decision", "comment", "initiator", "org", "instance_id", "business_key"])
def test_reserved_field_names_are_refused(name):
    assert check_form_schema(obj(**{name: {"type": "string"}})) == [f"字段名 {name!r} 是保留字段"]


@pytest.mark.parametrize("ref", ["https://evil.example/schema.json", "file:///etc/passwd", "other.json#/x"])
def test_a_remote_ref_is_refused_wherever_it_sits(ref):
    schema = obj(lines={"type": "array", "items": {"type": "object", "properties": {"x": {"$ref": ref}}}})
    assert check_form_schema(schema) == ["表单不能引用外部 $ref（只允许 #/ 开头的内部引用）"]


def test_a_local_ref_is_accepted():
    schema = {**obj(amount={"$ref": "#/$defs/money"}), "$defs": {"money": {"type": "number", "format": "money"}}}
    assert check_form_schema(schema) == []


@pytest.mark.parametrize("prop", [{"type": "string", "format": "money"}, {"format": "money"},
                                  {"type": "integer", "format": "money"}])
def test_money_format_on_anything_but_a_number_is_refused(prop):
    assert check_form_schema(obj(amount=prop)) == ['字段 \'amount\' 的 format "money" 只能用于 type "number"']


def test_every_problem_is_reported_not_only_the_first():
    problems = check_form_schema(obj(Bad={"type": "string"}, decision={"type": "string"},
                                     amount={"type": "string", "format": "money"}))
    assert len(problems) == 3


# -- validate_form_data ---------------------------------------------------------------------------------


def test_valid_data_gives_no_errors(apply_form):
    assert validate_form_data(apply_form, VALID_CLAIM) == {}
    assert validate_form_data(apply_form, {**VALID_CLAIM, "amount": 1200.5, "invoice_count": 3}) == {}


def test_missing_required_fields_are_reported_per_field(apply_form):
    assert validate_form_data(apply_form, {"title": "购买办公用品"}) == {
        "amount": ["必填"], "expense_type": ["必填"], "payee": ["必填"],
    }


def test_a_wrong_type_is_reported_with_the_expected_type(apply_form):
    errors = validate_form_data(apply_form, {**VALID_CLAIM, "amount": "一千二", "invoice_count": 1.5})
    assert errors == {"amount": ["须为数字"], "invoice_count": ["须为整数"]}


@pytest.mark.parametrize("text", ["1200.50", "1200", " 1200.5 "])
def test_money_sent_back_as_the_api_shows_it_is_accepted_and_stored_as_a_decimal(apply_form, text):
    data = {**VALID_CLAIM, "amount": text}
    assert validate_form_data(apply_form, data) == {}
    assert normalize_form_data(apply_form, data)["amount"] == Decimal(text.strip()).quantize(Decimal("0.01"))


def test_money_text_inside_line_items_is_a_decimal_too():
    lines = {"type": "object", "properties": {"lines": {"type": "array", "items": {
        "type": "object", "properties": {"amount": {"type": "number", "format": "money"}}}}}}
    assert validate_form_data(lines, {"lines": [{"amount": "800.00"}, {"amount": "1,200"}]}) == {
        "lines.1.amount": ["须为数字"]}
    assert normalize_form_data(lines, {"lines": [{"amount": "800.00"}]}) == {"lines": [{"amount": Decimal("800.00")}]}


def test_a_boolean_is_not_a_money_amount(apply_form):
    assert validate_form_data(apply_form, {**VALID_CLAIM, "amount": True}) == {"amount": ["须为数字"]}


def test_a_value_outside_the_enum_lists_the_choices(apply_form):
    [message] = validate_form_data(apply_form, {**VALID_CLAIM, "expense_type": "招待费"})["expense_type"]
    assert message.startswith("须为以下之一：")
    assert "办公费、印刷费" in message


def test_length_and_range_limits_are_reported_in_chinese(apply_form):
    errors = validate_form_data(apply_form, {**VALID_CLAIM, "title": "买", "payee": "x" * 101,
                                             "invoice_count": 201})
    assert errors == {"title": ["至少 2 个字符"], "payee": ["不能超过 100 个字符"], "invoice_count": ["不能大于 200"]}


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5.00"), 0])
def test_an_amount_must_be_above_zero(apply_form, amount):
    assert validate_form_data(apply_form, {**VALID_CLAIM, "amount": amount}) == {"amount": ["须大于 0"]}


@pytest.mark.parametrize("amount", [Decimal("12.345"), 12.345, Decimal("1e16"), Decimal("Infinity"),
                                    float("inf")])
def test_money_must_be_finite_with_at_most_two_decimals(apply_form, amount):
    assert validate_form_data(apply_form, {**VALID_CLAIM, "amount": amount}) == \
        {"amount": ["金额须为有限数值，最多两位小数"]}


@pytest.mark.parametrize("amount", [Decimal("12.30"), Decimal("12"), 12.3, 7, Decimal("9999999999999999.99")])
def test_money_with_up_to_two_decimals_is_accepted(apply_form, amount):
    assert validate_form_data(apply_form, {**VALID_CLAIM, "amount": amount}) == {}


def test_a_not_a_number_amount_is_reported_not_raised(apply_form):
    # An HTML form posting "NaN" becomes Decimal('NaN') through coerce_form_strings; comparing it with
    # exclusiveMinimum raises decimal.InvalidOperation unless validation handles it.
    data = {**VALID_CLAIM, **coerce_form_strings(apply_form, {"amount": "NaN"})}
    assert "amount" in validate_form_data(apply_form, data)


def test_fields_the_form_does_not_declare_are_refused(apply_form):
    errors = validate_form_data(apply_form, {**VALID_CLAIM, "LIMIT": 10**12, "decision": "approve"})
    assert errors == {"LIMIT": ["表单中没有此字段"], "decision": ["表单中没有此字段"]}


def test_a_pattern_mismatch_is_reported(finance_form):
    assert validate_form_data(finance_form, {"budget_subject": "30201x"}) == {
        "budget_subject": ["格式不正确，须为 3–7 位数字"]}


def test_data_that_is_not_an_object_is_refused(apply_form):
    assert validate_form_data(apply_form, ["amount", 1]) == {"data": ["须为 JSON 对象"]}


# -- normalize_form_data and coerce_form_strings ------------------------------------------------------


@pytest.mark.parametrize(("given", "stored"), [(Decimal("12.3"), Decimal("12.30")), (7, Decimal("7.00")),
                                               (12.3, Decimal("12.30")), ("5", Decimal("5.00"))])
def test_money_fields_are_stored_as_decimals_with_two_places(apply_form, given, stored):
    normalized = normalize_form_data(apply_form, {**VALID_CLAIM, "amount": given})
    assert normalized["amount"] == stored
    assert type(normalized["amount"]) is Decimal
    assert str(normalized["amount"]) == str(stored)


def test_normalizing_leaves_other_fields_and_the_input_alone(apply_form):
    data = {"title": "购买办公用品", "amount": Decimal("3.5"), "invoice_count": 2}
    normalized = normalize_form_data(apply_form, data)
    assert normalized == {"title": "购买办公用品", "amount": Decimal("3.50"), "invoice_count": 2}
    assert data["amount"] == Decimal("3.5") and str(data["amount"]) == "3.5"


def test_a_missing_or_null_money_field_stays_as_it_is(apply_form):
    assert normalize_form_data(apply_form, {"title": "x"}) == {"title": "x"}
    assert normalize_form_data(apply_form, {"amount": None}) == {"amount": None}


def test_html_form_strings_become_the_declared_types(apply_form):
    coerced = coerce_form_strings(apply_form, {"title": " 购买办公用品 ", "amount": "1200.50", "invoice_count": "3",
                                               "expense_type": "办公费", "payee": "镇供销社", "stray": "x"})
    assert coerced == {"title": "购买办公用品", "amount": Decimal("1200.50"), "invoice_count": 3,
                       "expense_type": "办公费", "payee": "镇供销社"}
    assert validate_form_data(apply_form, coerced) == {}


def test_blank_html_fields_become_absent_so_required_reports_them(apply_form):
    coerced = coerce_form_strings(apply_form, {"title": "   ", "amount": "", "payee": "p", "expense_type": "办公费"})
    assert coerced == {"payee": "p", "expense_type": "办公费"}
    assert validate_form_data(apply_form, coerced) == {"title": ["必填"], "amount": ["必填"]}


def test_checkboxes_become_booleans(finance_form):
    assert coerce_form_strings(finance_form, {"documents_complete": "on"}) == {"documents_complete": True}
    assert coerce_form_strings(finance_form, {}) == {"documents_complete": False}


def test_strings_that_do_not_convert_are_passed_through_for_validation_to_report(apply_form):
    coerced = coerce_form_strings(apply_form, {"amount": "十二元", "invoice_count": "3.5"})
    assert coerced == {"amount": "十二元", "invoice_count": "3.5"}
    errors = validate_form_data(apply_form, {**VALID_CLAIM, **coerced})
    assert errors == {"amount": ["须为数字"], "invoice_count": ["须为整数"]}


def test_a_json_text_box_becomes_lines_with_exact_amounts_and_bad_json_is_left_for_validation():
    schema = {"type": "object", "properties": {"lines": {"type": "array", "items": {
        "type": "object", "properties": {"amount": {"type": "number", "format": "money"}}}}}}
    data = coerce_form_strings(schema, {"lines": '[{"amount": 1200.10}]'})
    assert data == {"lines": [{"amount": Decimal("1200.10")}]}
    broken = coerce_form_strings(schema, {"lines": "[{amount:"})
    assert validate_form_data(schema, broken) == {"lines": ["须为多行明细"]}
