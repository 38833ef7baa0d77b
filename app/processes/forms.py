"""Task forms: one JSON Schema per user task, checked at deploy and enforced at completion.

Only fields the schema declares reach the engine. Task data is visible to every condition, so an
undeclared field could shadow a variable a gateway reads (spiffworkflow.md §4).
"""
import json
import re
from decimal import Decimal, InvalidOperation

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from app.engine import SANDBOX_NAMES

# Filled in by the engine or the API, never by a form.
RESERVED_FIELDS = frozenset({"decision", "comment", "initiator", "org", "instance_id", "business_key"})
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_MONEY = Decimal("1e16")
# How the API sends money ("1200.00", see MoneyText in app/api/schemas.py); accepted back the same way.
MONEY_TEXT = re.compile(r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$")

format_checker = FormatChecker()


@format_checker.checks("money", raises=(InvalidOperation, ValueError, TypeError))
def _is_money(value) -> bool:
    """Yuan with at most two decimals (分), finite, below 10^16."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return True  # `type` reports the wrong type; format only judges numbers
    amount = Decimal(str(value))
    return amount.is_finite() and abs(amount) < MAX_MONEY and amount == amount.quantize(Decimal("0.01"))


def check_form_schema(schema) -> list[str]:
    """Return what is wrong with a form schema (empty when it is usable)."""
    if not isinstance(schema, dict):
        return ["表单须为 JSON 对象"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"不是有效的 JSON Schema：{exc.message}"]
    problems = []
    if schema.get("type") != "object":
        problems.append('表单的 "type" 须为 "object"')
    for name, prop in (schema.get("properties") or {}).items():
        if not FIELD_NAME.match(name):
            problems.append(f"字段名 {name!r} 须为小写字母开头的英文标识符（条件表达式要用它）")
        if name in RESERVED_FIELDS:
            problems.append(f"字段名 {name!r} 是保留字段")
        elif name in SANDBOX_NAMES:
            problems.append(f"字段名 {name!r} 与表达式中可用的函数同名，请换一个名字")
        if isinstance(prop, dict) and prop.get("format") == "money" and prop.get("type") != "number":
            problems.append(f'字段 {name!r} 的 format "money" 只能用于 type "number"')
    if _remote_refs(schema):
        problems.append("表单不能引用外部 $ref（只允许 #/ 开头的内部引用）")
    hidden = schema.get("x-hidden", [])
    if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
        problems.append('"x-hidden" 须为字段名列表')
    return problems


def _remote_refs(node) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_remote_refs(v) for v in node.values())
    if isinstance(node, list):
        return any(_remote_refs(v) for v in node)
    return False


def _field_of(error) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and "'" in error.message:  # a line's missing cell is named too: lines.0.amount
        missing = error.message.split("'")[1]
        return f"{path}.{missing}" if path else missing
    return path or "data"


def _message(error) -> str:
    v, expected = error.validator, error.validator_value
    if v == "pattern":
        return pattern_hint(error.schema)
    if v == "format":
        return FORMAT_HINTS.get(expected, f"格式应为 {expected}")
    if v == "enum" and isinstance(expected, list):  # the labels the user chose from, not the stored values
        labels = error.schema.get("x-enum-labels") if isinstance(error.schema, dict) else None
        return "须为以下之一：" + "、".join(map(str, labels if isinstance(labels, list) and labels else expected))
    if v == "const":
        return "须勾选确认" if expected is True else f"须为 {expected}"
    messages = {
        "required": "必填",
        "type": _type_message(expected),
        "minLength": f"至少 {expected} 个字符",
        "maxLength": f"不能超过 {expected} 个字符",
        "minimum": f"不能小于 {expected}",
        "maximum": f"不能大于 {expected}",
        "exclusiveMinimum": f"须大于 {expected}",
        "exclusiveMaximum": f"须小于 {expected}",
        "enum": "须为以下之一：" + "、".join(map(str, expected)) if isinstance(expected, list) else "取值不允许",
        "minItems": f"至少 {expected} 项",
        "maxItems": f"最多 {expected} 项",
    }
    return messages.get(v, error.message)


# What a value of each JSON type is to the person typing it (a type error says what is expected, in words).
TYPE_WORDS = {"string": "文字", "number": "数字", "integer": "整数", "boolean": "是或否", "array": "多行明细",
              "object": "一组数据", "null": "空"}


def _type_message(expected) -> str:
    kinds = expected if isinstance(expected, list) else [expected]
    return "须为" + "或".join(TYPE_WORDS.get(str(k), str(k)) for k in kinds)


FORMAT_HINTS = {"money": "金额须为有限数值，最多两位小数", "date": "格式不正确，须为日期，如 2026-03-15"}
# What a pattern the forms use expects, in words: "^[0-9]{8,32}$" -> "须为 8–32 位数字".
PATTERN_CLASSES = {"[0-9]": "数字", "[0-9A-Z]": "数字或大写字母", "[A-Z0-9]": "数字或大写字母"}
SIMPLE_PATTERN = re.compile(r"^\^(\[[^\]]+\])\{(\d+)(?:,(\d+))?\}\$$")


def pattern_hint(prop) -> str:
    """The expectation a pattern error names: the form's own "x-pattern-hint", else read from the pattern."""
    prop = prop if isinstance(prop, dict) else {}
    if isinstance(prop.get("x-pattern-hint"), str):
        return prop["x-pattern-hint"]
    match = SIMPLE_PATTERN.match(str(prop.get("pattern") or ""))
    if not match or match.group(1) not in PATTERN_CLASSES:
        return "格式不正确"
    low, high = match.group(2), match.group(3)
    count = low if high is None or high == low else f"{low}–{high}"
    return f"格式不正确，须为 {count} 位{PATTERN_CLASSES[match.group(1)]}"


def unconfirmed_fields(schema: dict, data: dict) -> dict[str, list[str]]:
    """A box a step must tick to go on ("x-confirm": true, e.g. 票据齐全、合规), sent unticked: {field: [message]}.

    Enforced when the step is approved or submitted, never on a rejection (that is why one rejects)."""
    errors = {}
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("x-confirm") is True and name in data and data[name] is not True:
            errors[name] = [f"须确认“{prop.get('title') or name}”后才能提交"]
    return errors


def money_from_text(schema: dict, value):
    """Money fields sent as the API shows them ("800.00") become Decimal, inside line items too, so a
    client can send back what it read; any other text is left for validation to name."""
    if not isinstance(schema, dict):
        return value
    if schema.get("format") == "money" and isinstance(value, str) and MONEY_TEXT.match(value.strip()):
        return Decimal(value.strip())
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        properties = schema["properties"]
        return {k: money_from_text(properties.get(k), v) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [money_from_text(schema["items"], v) for v in value]
    return value


def validate_form_data(schema: dict, data) -> dict[str, list[str]]:
    """Check submitted data against the form; return {field: [messages]}, empty when valid."""
    if not isinstance(data, dict):
        return {"data": ["须为 JSON 对象"]}
    data = money_from_text(schema, data)
    errors: dict[str, list[str]] = {}
    declared = set((schema.get("properties") or {}).keys())
    for name in sorted(set(data) - declared):
        errors.setdefault(name, []).append("表单中没有此字段")
    # NaN and Infinity cannot even be compared with a bound (InvalidOperation): report them up front.
    properties = schema.get("properties") or {}
    for name, value in data.items():
        if isinstance(value, (Decimal, float)) and not Decimal(value).is_finite():
            money = (properties.get(name) or {}).get("format") == "money"
            errors.setdefault(name, []).append("金额须为有限数值，最多两位小数" if money else "须为有限数值")
    finite = {k: v for k, v in data.items() if k not in errors}
    validator = Draft202012Validator(schema, format_checker=format_checker)
    for error in validator.iter_errors(finite):
        if (field := _field_of(error)) not in errors or field in finite:
            errors.setdefault(field, []).append(_message(error))
    return errors


def hidden_fields(schema: dict) -> set[str]:
    """Process data this step's viewers must not see (the form's top-level "x-hidden" list)."""
    hidden = schema.get("x-hidden") or []
    return {name for name in hidden if isinstance(name, str)}


def check_field_permissions(schema: dict, data: dict, current: dict) -> dict[str, list[str]]:
    """A step may show a field without letting it change: "readOnly" fields keep their current value,
    hidden fields cannot be written at all. Enforced here, whatever the page did."""
    errors: dict[str, list[str]] = {}
    hidden = hidden_fields(schema)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in data:
            continue
        if name in hidden:
            errors.setdefault(name, []).append("此环节不能填写该字段")
        elif isinstance(prop, dict) and prop.get("readOnly") and not _same(data[name], current.get(name)):
            errors.setdefault(name, []).append("只读字段，此环节不能修改")
    return errors


def _same(a, b) -> bool:
    if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return Decimal(str(a)) == Decimal(str(b))
    return a == b


def normalize_form_data(schema: dict, data: dict) -> dict:
    """Valid data in its stored form: money fields as Decimal with exactly two places."""
    result = money_from_text(schema, dict(data))
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("format") == "money" and result.get(name) is not None:
            result[name] = Decimal(str(result[name])).quantize(Decimal("0.01"))
    return result


def restore_form_data(schema: dict, data: dict) -> dict:
    """Form data read back from a JSON column: numbers the schema declares are Decimal again, not text."""
    result = dict(data)
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and prop.get("type") == "number" and isinstance(result.get(name), str):
            try:
                result[name] = Decimal(result[name])
            except InvalidOperation:
                pass
    return result


def coerce_form_strings(schema: dict, raw: dict[str, str]) -> dict:
    """Turn an HTML form's strings into the types the schema declares; blanks become absent.

    What cannot be converted is passed through unchanged, so validation reports it with its field.
    """
    result = {}
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind = prop.get("type")
        if kind == "boolean":
            result[name] = raw.get(name) in ("on", "true", "1", "yes")
            continue
        if kind == "array" and isinstance(raw.get(name), list):  # rows already split out by the page
            items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
            result[name] = [coerce_form_strings(items, row) if isinstance(row, dict) else row
                            for row in raw[name]]
            continue
        if kind == "object" and isinstance(raw.get(name), dict):  # one input per key (approved_amounts[CODE])
            entry = prop.get("additionalProperties") if isinstance(prop.get("additionalProperties"), dict) else {}
            typed = coerce_form_strings({"properties": {k: entry for k in raw[name]}}, raw[name])
            if typed:
                result[name] = typed
            continue
        value = (raw.get(name) or "").strip()
        if prop.get("x-widget") == "bank-account":
            value = re.sub(r"[\s-]+", "", value)  # as printed on a card or a letter: 6222 0210 …
        if value == "":
            continue
        if kind in ("array", "object"):
            try:
                value = json.loads(value, parse_float=Decimal)
            except ValueError:
                pass  # validation names the field: 须为多行明细
            result[name] = value
            continue
        try:
            if kind == "number" and Decimal(value).is_finite():
                value = Decimal(value)
            elif kind == "integer":
                value = int(value)
        except (InvalidOperation, ValueError):
            pass
        result[name] = value
    return result
