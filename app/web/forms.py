"""A task's JSON Schema as HTML form fields, and process data as labelled read-only rows.

The schema decides the widget, so a process owner writing a form gets it without Python:
- string -> text (textarea with "x-widget": "textarea", date with "format": "date"), number/integer ->
  number (step 0.01 for money), boolean -> checkbox (a box the step must tick: "x-confirm": true),
  enum -> select (labels from "x-enum-labels"), "default" preselected;
- "x-widget": "indicator" | "project" | "refcode" (with "x-refkind": function, econ_dept, fund_nature…) ->
  a searchable picker (app/web/pickers.py) filling the code; "x-amount-field" names the amount whose
  request the indicator's 可用 balance is shown after;
- "x-widget": "bank-account" -> text whose spaces are dropped before validation;
- an array of objects ("x-widget": "lines") -> a line-item editor: one row of cells per item, posted as
  lines-0-amount…, with a running total of the column named by "x-total".
What the browser sends back goes through `posted_values` and `coerce_form_strings`; the use case validates it.
"""
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.processes.definitions import Deployed
from app.processes.forms import pattern_hint
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
    refkind: str = ""  # the code table of a refcode picker
    amount_field: str = ""  # an indicator picker: the amount field whose request the balance is shown after
    columns: list["Field"] = field(default_factory=list)  # lines: a blank row, its names holding __i__
    rows: list[list["Field"]] = field(default_factory=list)  # lines: the cells of each row
    row_errors: list[list[str]] = field(default_factory=list)  # lines: messages of a row as a whole
    total: str = ""  # lines: the column summed under the rows
    total_value: str = ""
    hint: str = ""  # what the field expects ("须为 8–32 位数字"), shown before anything goes wrong
    entries: list["Field"] = field(default_factory=list)  # map: one input per key (approved_amounts[CODE])

    @property
    def input_id(self) -> str:
        return "f-" + self.name


PICKERS = ("indicator", "project", "refcode")
ROW_KEY = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)-(?P<index>\d{1,3})-(?P<cell>[a-z][a-z0-9_]*)$")
MAX_ROWS = 200
MAP_KEY = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\[(?P<key>[0-9A-Za-z_.-]{1,64})\]$")


def _is_lines(prop: dict) -> bool:
    items = prop.get("items")
    return prop.get("type") == "array" and isinstance(items, dict) and items.get("type") == "object" \
        and isinstance(items.get("properties"), dict)


def _is_map(prop: dict) -> bool:
    """An object keyed by the codes of another field's lines ("x-keys-from": "lines.indicator_code"),
    e.g. the amounts a reviewer approves per indicator of a plan: one input per code, no JSON."""
    return prop.get("type") == "object" and isinstance(prop.get("additionalProperties"), dict) \
        and isinstance(prop.get("x-keys-from"), str) and "." in prop["x-keys-from"]


def _widget(prop: dict) -> str:
    kind = prop.get("type")
    if "enum" in prop and kind in ("string", "integer", "number", None):
        return "select"
    if kind == "string":
        if prop.get("x-widget") in ("textarea", *PICKERS):
            return prop["x-widget"]
        return "date" if prop.get("format") == "date" else "text"
    if _is_lines(prop):
        return "lines"
    if _is_map(prop):
        return "map"
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
    if prop.get("x-widget") == "bank-account":
        attrs["inputmode"], attrs["autocomplete"] = "numeric", "off"
    return attrs


def _as_text(value) -> str:
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def build_fields(schema: dict, values=None, errors: dict[str, list[str]] | None = None, *,
                 submitted: bool = False) -> list[Field]:
    """Fields for `schema`, filled with `values` (what `posted_values` read when `submitted`, else stored
    data; a default the schema gives is preselected on a fresh form)."""
    values, errors = values or {}, errors or {}
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        raw = values.get(name, None if submitted else prop.get("default"))
        f = _field(name, prop, raw, name in required, errors, submitted)
        if f.widget == "map":
            _fill_map(f, prop, raw if isinstance(raw, dict) else {}, values, errors)
        fields.append(f)
    return fields


def _fill_map(f: Field, prop: dict, given: dict, values: dict, errors: dict) -> None:
    """One input per key: the keys the lines named by "x-keys-from" hold, else the ones already given."""
    lines_name, key_cell = prop["x-keys-from"].split(".", 1)
    lines = values.get(lines_name) if isinstance(values.get(lines_name), list) else []
    keys = [str(row.get(key_cell)) for row in lines if isinstance(row, dict) and row.get(key_cell)] or list(given)
    entry = prop["additionalProperties"]
    for key in dict.fromkeys(keys):
        cell = _field(f"{f.name}[{key}]", entry, given.get(key), False, {}, True)
        cell.label = key
        cell.errors = list(errors.get(f"{f.name}.{key}", []))
        f.entries.append(cell)


def _field(name: str, prop: dict, raw, required: bool, errors: dict, submitted: bool) -> Field:
    widget = _widget(prop)
    f = Field(
        name=name, label=str(prop.get("title") or name), widget=widget,
        required=required and widget != "checkbox",
        description=prop.get("description") or (_json_hint(prop) if widget == "json" else None),
        value="" if widget in ("lines", "map") else _as_text(raw),
        checked=(raw in TRUE_STRINGS or raw is True) if submitted else raw is True,
        options=list(zip([_as_text(v) for v in prop.get("enum") or []],
                         [_as_text(v) for v in prop.get("x-enum-labels") or prop.get("enum") or []], strict=False)),
        attrs=_attrs(prop, widget), errors=_own_errors(name, widget, errors),
        refkind=str(prop.get("x-refkind") or ""), amount_field=str(prop.get("x-amount-field") or ""),
        hint=pattern_expectation(prop),
    )
    if widget == "lines":
        _fill_lines(f, prop, raw if isinstance(raw, list) else [], errors, submitted)
    return f


def _own_errors(name: str, widget: str, errors: dict) -> list[str]:
    """The field's messages; a line editor shows its cells' messages on their rows, any other field takes
    the messages of its parts (approved_amounts.X) itself."""
    own = list(errors.get(name, []))
    if widget not in ("lines", "map"):
        own += [m for key, found in errors.items() if key.startswith(name + ".") for m in found]
    return own


def pattern_expectation(prop: dict) -> str:
    """What a patterned field expects, said before the user types (the same words its error uses)."""
    if not prop.get("pattern"):
        return ""
    hint = pattern_hint(prop)
    return "" if hint == "格式不正确" else hint.removeprefix("格式不正确，")


def _fill_lines(f: Field, prop: dict, rows: list, errors: dict, submitted: bool) -> None:
    """The line editor's rows: cell `amount` of row 1 is named lines-1-amount, its messages come as lines.1.amount."""
    items = prop["items"]
    cells = {k: v if isinstance(v, dict) else {} for k, v in items["properties"].items()}
    required = set(items.get("required") or [])
    f.total = str(prop.get("x-total") or "")

    def row_fields(index, row: dict) -> list[Field]:
        prefix = f"{f.name}.{index}."
        cell_errors = {f"{f.name}-{index}-{k[len(prefix):]}": v for k, v in errors.items() if k.startswith(prefix)}
        return [_field(f"{f.name}-{index}-{cell}", cell_prop,
                       row.get(cell, None if submitted else cell_prop.get("default")),
                       cell in required, cell_errors, submitted)
                for cell, cell_prop in cells.items()]

    rows = [r if isinstance(r, dict) else {} for r in rows] or [{}]
    f.rows = [row_fields(i, row) for i, row in enumerate(rows)]
    f.row_errors = [list(errors.get(f"{f.name}.{i}", [])) for i in range(len(rows))]
    f.columns = row_fields("__i__", {})
    if f.total:
        f.total_value = _sum(row.get(f.total) for row in rows)


def _sum(values) -> str:
    total = Decimal(0)
    for value in values:
        try:
            amount = Decimal(str(value).strip()) if value not in (None, "") else Decimal(0)
        except InvalidOperation:
            continue
        total += amount if amount.is_finite() else 0
    return f"{total:,.2f}"


def posted_values(schema: dict, form) -> dict:
    """An HTML form post as the schema's fields: each field's text, and a line editor's cells
    (lines-0-amount, lines-1-amount…) gathered into rows, in row order, blank rows left out.

    `_add_row=<field>` asks for one more blank row, `_remove_row=<field>-<i>` drops a row: the buttons
    of the editor when the browser runs no script (the page is shown again, nothing is submitted)."""
    values = {k: form.get(k) for k in form.keys() if not ROW_KEY.match(k) and not MAP_KEY.match(k)}
    for name, prop in (schema.get("properties") or {}).items():
        if isinstance(prop, dict) and _is_lines(prop):
            values[name] = _posted_rows(name, form)
        elif isinstance(prop, dict) and _is_map(prop):
            values[name] = {m["key"]: form.get(k) for k in form.keys()
                            if (m := MAP_KEY.match(k)) and m["name"] == name}
    return values


def _posted_rows(name: str, form) -> list[dict]:
    by_index: dict[int, dict] = {}
    for key in form.keys():
        match = ROW_KEY.match(key)
        if match and match["name"] == name and int(match["index"]) < MAX_ROWS:
            by_index.setdefault(int(match["index"]), {})[match["cell"]] = form.get(key)
    removed = form.get("_remove_row", "")
    rows = [row for index, row in sorted(by_index.items())
            if f"{name}-{index}" != removed and any((v or "").strip() for v in row.values())]
    if form.get("_add_row") == name:
        rows.append({})
    return rows


def editing_only(form) -> bool:
    """The post only adds or removes a row of a line editor: show the form again, submit nothing."""
    return bool(form.get("_add_row") or form.get("_remove_row"))


def split_errors(details: dict[str, list[str]], form_fields: set[str]) -> tuple[dict, list[str]]:
    """InvalidInput details -> ({field: messages} for fields on the page, [other messages])."""
    by_field: dict[str, list[str]] = {}
    other: list[str] = []
    for key, messages in (details or {}).items():
        name = key.removeprefix("data.")
        if name in form_fields or name.split(".")[0] in form_fields:  # lines.1.amount: a cell of a line editor
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
