"""A task's JSON Schema as HTML form fields, and process data as labelled read-only rows.

The schema decides the widget: string -> text (textarea with "x-widget": "textarea", date with
"format": "date"), number/integer -> number (step 0.01 for money), boolean -> checkbox, enum -> select
(labels from "x-enum-labels"), array/object -> a JSON text box (the lines of a declaration or a plan).
What the browser sends back goes through `coerce_form_strings` and the use case validates it.
"""
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from app.processes.definitions import Deployed
from app.web.filters import display_value

TRUE_STRINGS = ("on", "true", "1", "yes")


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text, textarea, date, number, checkbox, select, unsupported
    required: bool = False
    description: str | None = None
    value: str = ""
    checked: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)  # extra HTML attributes (min, max, step, maxlength)
    errors: list[str] = field(default_factory=list)


def _widget(prop: dict) -> str:
    kind = prop.get("type")
    if "enum" in prop and kind in ("string", "integer", "number", None):
        return "select"
    if kind == "string":
        if prop.get("x-widget") == "textarea":
            return "textarea"
        return "date" if prop.get("format") == "date" else "text"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "checkbox"
    if kind in ("array", "object"):
        return "json"  # lines of a declaration, a plan…: typed as JSON until the web UI has a line editor
    return "unsupported"


def _json_hint(prop: dict) -> str:
    """What a JSON field holds, named by the schema's titles: "每项：project_code 项目编码，amount 金额…"."""
    item = prop.get("items") if prop.get("type") == "array" else prop
    fields = (item or {}).get("properties") or {}
    named = "，".join(f"{k} {v.get('title', '')}".strip() for k, v in fields.items() if isinstance(v, dict))
    shape = "JSON 数组，每项为对象" if prop.get("type") == "array" else "JSON 对象"
    return f"按 {shape}填写" + (f"：{named}" if named else "")


def _attrs(prop: dict, widget: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if widget == "number":
        if prop.get("type") == "integer":
            attrs["step"], attrs["inputmode"] = "1", "numeric"
        else:
            attrs["step"] = "0.01" if prop.get("format") == "money" else "any"
            attrs["inputmode"] = "decimal"
        for key in ("minimum", "maximum"):
            if isinstance(prop.get(key), (int, float, Decimal)) and not isinstance(prop.get(key), bool):
                attrs[key[:3]] = str(prop[key])
    if widget in ("text", "textarea") and isinstance(prop.get("maxLength"), int):
        attrs["maxlength"] = str(prop["maxLength"])
    return attrs


def _as_text(value) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def build_fields(schema: dict, values=None, errors: dict[str, list[str]] | None = None, *,
                 submitted: bool = False) -> list[Field]:
    """Fields for `schema`, filled with `values` (the typed strings when `submitted`, else stored data)."""
    values, errors = values or {}, errors or {}
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        widget = _widget(prop)
        raw = values.get(name)
        fields.append(Field(
            name=name, label=str(prop.get("title") or name), widget=widget,
            required=name in required and widget != "checkbox",
            description=prop.get("description") or (_json_hint(prop) if widget == "json" else None),
            value=_as_text(raw),
            checked=(raw in TRUE_STRINGS) if submitted else raw is True,
            options=list(zip([_as_text(v) for v in prop.get("enum") or []],
                             [_as_text(v) for v in prop.get("x-enum-labels") or prop.get("enum") or []], strict=False)),
            attrs=_attrs(prop, widget), errors=list(errors.get(name, [])),
        ))
    return fields


def split_errors(details: dict[str, list[str]], form_fields: set[str]) -> tuple[dict, list[str]]:
    """InvalidInput details -> ({field: messages} for fields on the page, [other messages])."""
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for key, messages in (details or {}).items():
        name = key.removeprefix("data.")
        if name in form_fields:
            by_field.setdefault(name, []).extend(messages)
        else:
            other.extend(f"{key}：{m}" for m in messages)
    return by_field, other


def field_properties(deployed: Deployed, first: dict | None = None) -> dict[str, dict]:
    """Every field any form of this version declares (the given form's first): labels for stored data."""
    found: dict[str, dict] = {}
    schemas = [first or {}]
    application = deployed.bundle.model.application_task_id
    main_forms = deployed.forms.get(deployed.process_id, {})
    schemas.append(main_forms.get(application) or {})
    for forms in deployed.forms.values():
        schemas.extend(forms.values())
    for schema in schemas:
        for name, prop in ((schema or {}).get("properties") or {}).items():
            if isinstance(prop, dict):
                found.setdefault(name, prop)
    return found


def data_rows(data: dict | None, properties: dict[str, dict]) -> list[tuple[str, str]]:
    """(label, text) for each value, in the forms' field order, unknown keys after them."""
    data = data or {}
    known = [name for name in properties if name in data]
    rest = sorted(k for k in data if k not in properties)
    rows = []
    for name in (*known, *rest):
        prop = properties.get(name) or {}
        rows.append((str(prop.get("title") or name), display_value(data[name], prop)))
    return rows


@dataclass
class Refusal:
    """A refused operation form, to re-render its page: which form, the message, the field messages, what was typed."""

    op: str
    message: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)

    def value(self, op: str, name: str, default=""):
        return self.values.get(name, default) if op == self.op else default

    def errors_of(self, op: str, name: str) -> list[str]:
        return self.errors.get(name, []) if op == self.op else []


def refusal(op: str, error, fields_on_form, values=None, multi=()) -> Refusal:
    """A use case's refusal of the `op` form: InvalidInput details by the fields it has, the rest in the message.

    `values` is what was posted (a MultiDict: the keys in `multi` keep every value, the others their first).
    """
    by_field, other = split_errors(getattr(error, "details", None) or {}, set(fields_on_form))
    values = values if values is not None else {}
    typed = {k: values.getlist(k) if k in multi else values.get(k)
             for k in values.keys() if k != "csrf_token"} if hasattr(values, "getlist") else dict(values)
    return Refusal(op, error.message, by_field, other, typed)


def usernames(raw: str | None) -> list[str]:
    """'a, b c，d、e' -> ['a', 'b', 'c', 'd', 'e']: commas (also Chinese ones), enumeration commas or spaces."""
    return [name for name in re.split(r"[\s,，、;；]+", raw or "") if name]
