"""Per-township settings for the control rules and tier routing (docs/domain.md §4, §5, §10).

Code defaults (DEFAULTS) are deep-merged with what the township stored (TownshipSettings.settings holds
only the overrides, so a default changed in code reaches every township that did not override it).
Dicts merge key by key; lists and scalars replace; a null in a patch removes the override (back to
the default). Amounts are decimal strings of yuan ("5000", "4999.99") so they stay Decimal; a patch
may give them as JSON integers or decimals and they are stored as strings.

The numbers are the recommended demo configuration of §5 (T0 < 1,000 ≤ T1 < 5,000 ≤ T2 < 50,000 ≤ T3;
三重一大 大额资金 5万, contracts 1万), the central-level 分散采购限额 of 国办发〔2019〕55号 (a
township's province usually sets lower ones: §4 C10) and illustrative cash limits (C14 is set
locally). Every one is meant to be replaced by the township's own rules (§10 question 3).
"""
import copy
import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from jsonschema import Draft202012Validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.approvals.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.controls.rules import LOCKED_RULES, RULE_LEVELS, allowed_levels, money
from app.models import Org, OrgKind, Role, TownshipSettings, User

log = logging.getLogger(__name__)

# 《中央预算单位公务卡强制结算目录》's 16 items as 部门预算支出经济分类 codes; 水电费 is two codes.
OFFICIAL_CARD_CODES = [
    "30201",  # 办公费
    "30202",  # 印刷费
    "30203",  # 咨询费
    "30204",  # 手续费
    "30205",  # 水费 (水电费)
    "30206",  # 电费 (水电费)
    "30207",  # 邮电费
    "30209",  # 物业管理费
    "30211",  # 差旅费
    "30213",  # 维修（护）费
    "30214",  # 租赁费
    "30215",  # 会议费
    "30216",  # 培训费
    "30217",  # 公务接待费
    "30218",  # 专用材料费
    "30231",  # 公务用车运行维护费
    "30239",  # 其他交通费用
]

# 因公出国（境）, 公务接待, 公务用车运行维护, 公务用车购置 (310 and 309 capital-spending variants).
THREE_PUBLIC_CODES = ["30212", "30217", "30231", "31013", "30913"]

DEFAULTS: dict = {
    "tiers": {"t1": "1000", "t2": "5000", "t3": "50000"},
    "collective_decision": {"amount": "50000", "contract_amount": "10000"},
    "procurement": {"goods_services_limit": "1000000", "works_limit": "1200000"},
    "cash": {"per_payment": "2000", "per_month": "20000", "per_year": "100000"},
    "official_card": {"econ_codes": OFFICIAL_CARD_CODES, "small_cash_exempt": "200"},
    "three_public": {"econ_codes": THREE_PUBLIC_CODES, "annual_budget": {}},
    "invoices": {"required": True},
    "carry_over": {"recall_after_years": 2},
    "rules": dict(RULE_LEVELS),
    # Who an overdue task escalates to, one rung at a time (issue: finance_reviewer -> finance_head ->
    # finance_deputy; deputy_head -> township_head). A role with no next rung goes to the 督办.
    "escalation": {"ladder": {
        "clerk": "unit_head", "unit_head": "deputy_head", "finance_reviewer": "finance_head",
        "finance_head": "finance_deputy", "treasury": "finance_head", "deputy_head": "township_head",
        "finance_deputy": "township_head", "township_head": "party_secretary",
    }},
}

TIERS = ("T0", "T1", "T2", "T3")

# ------------------------------------------------------------------------------------------- schema

MONEY = {
    "type": "string",
    # > 0, at most two decimals, no leading zeros, no exponent; 14 integer digits fit NUMERIC(18,2).
    "pattern": r"^(?!0+(\.0{1,2})?$)(0|[1-9][0-9]{0,13})(\.[0-9]{1,2})?$",
    "x-kind": "money",
    "x-message": "须为大于 0 的金额（元），最多两位小数，如 \"5000\" 或 \"4999.99\"",
}
ECON_CODE = {
    "type": "string",
    "pattern": r"^[0-9]{3}([0-9]{2})?$",
    "x-kind": "code",
    "x-message": "须为 3 位或 5 位部门经济分类代码，如 \"302\" 或 \"30201\"",
}
ECON_CODES = {"type": "array", "items": ECON_CODE, "uniqueItems": True,
              "x-message": "须为不重复的经济分类代码列表"}


def _object(properties: dict, **extra) -> dict:
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


def _level_schema(rule: str) -> dict:
    levels = allowed_levels(rule)
    if rule in LOCKED_RULES:
        return {"enum": list(levels), "x-message": f"{rule} 是硬性控制，不能关闭或降为警告，只能为 block"}
    return {"enum": list(levels), "x-message": f"须为 {'、'.join(levels)} 之一"}


SETTINGS_SCHEMA: dict = _object({
    "tiers": _object({"t1": MONEY, "t2": MONEY, "t3": MONEY}),
    "collective_decision": _object({"amount": MONEY, "contract_amount": MONEY}),
    "procurement": _object({"goods_services_limit": MONEY, "works_limit": MONEY}),
    "cash": _object({"per_payment": MONEY, "per_month": MONEY, "per_year": MONEY}),
    "official_card": _object({"econ_codes": ECON_CODES, "small_cash_exempt": MONEY}),
    "three_public": _object({
        "econ_codes": ECON_CODES,
        "annual_budget": {"type": "object", "propertyNames": ECON_CODE, "additionalProperties": MONEY},
    }),
    "invoices": _object({"required": {"type": "boolean", "x-message": "须为 true 或 false"}}),
    "carry_over": _object({"recall_after_years": {"type": "integer", "minimum": 1, "maximum": 10,
                                                  "x-message": "须为 1 到 10 的整数（年）"}}),
    "rules": _object({rule: _level_schema(rule) for rule in RULE_LEVELS}),
    "escalation": _object({"ladder": {
        "type": "object", "propertyNames": {"enum": [r.value for r in Role]},
        "additionalProperties": {"enum": [r.value for r in Role], "x-message": "须为角色代码，如 finance_head"},
        "x-message": "须为 角色 -> 上一级角色 的对照，如 {\"finance_reviewer\": \"finance_head\"}"}}),
})
SETTINGS_SCHEMA["$schema"] = "https://json-schema.org/draft/2020-12/schema"
SETTINGS_SCHEMA["title"] = "乡镇控制规则与审批额度设置（可只含部分设置项）"

_VALIDATOR = Draft202012Validator(SETTINGS_SCHEMA)
Draft202012Validator.check_schema(SETTINGS_SCHEMA)

_GENERIC = {"object": "须为对象（键值对）", "array": "须为列表", "string": "须为字符串", "integer": "须为整数",
            "boolean": "须为 true 或 false"}


def _path(parts) -> str:
    return ".".join(str(p) for p in parts) or "_schema"


def _message(error) -> str:
    if "x-message" in error.schema:
        return error.schema["x-message"]
    if error.validator == "type":
        return _GENERIC.get(error.validator_value, f"类型须为 {error.validator_value}")
    if error.validator == "uniqueItems":
        return "不得重复"
    return error.message


def _schema_errors(doc) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in sorted(_VALIDATOR.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and error.schema.get("additionalProperties") is False:
            for key in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                errors.setdefault(_path([*path, key]), []).append("未知的设置项")
            continue
        if "propertyNames" in error.absolute_schema_path:
            # A bad key: jsonschema reports it at the object; report it at the key.
            errors.setdefault(_path([*path, error.instance]), []).append("键" + _message(error))
            continue
        errors.setdefault(_path(path), []).append(_message(error))
    return errors


def _amount(doc: Mapping, section: str, key: str, errors: dict) -> Decimal | None:
    """The amount at section.key if present and valid on its own (reported already otherwise)."""
    value = doc.get(section, {}).get(key) if isinstance(doc.get(section), Mapping) else None
    if value is None or f"{section}.{key}" in errors:
        return None
    return money(value)


def validate_settings(doc) -> dict[str, list[str]]:
    """Problems with a full or partial settings document, by field path ("tiers.t2"); {} when valid.

    Beyond the schema: tiers strictly increasing (t1 < t2 < t3), cash limits not shrinking from payment
    to month to year, and annual 三公 budgets only for listed 三公 codes.
    """
    errors = _schema_errors(doc)
    if not isinstance(doc, Mapping):
        return errors
    t1, t2, t3 = (_amount(doc, "tiers", k, errors) for k in ("t1", "t2", "t3"))
    if t1 is not None and t2 is not None and t2 <= t1:
        errors.setdefault("tiers.t2", []).append(f"须大于 t1（{t1}），档次金额须严格递增")
    if t2 is not None and t3 is not None and t3 <= t2:
        errors.setdefault("tiers.t3", []).append(f"须大于 t2（{t2}），档次金额须严格递增")
    per_payment, per_month, per_year = (_amount(doc, "cash", k, errors) for k in ("per_payment", "per_month",
                                                                                    "per_year"))
    if per_payment is not None and per_month is not None and per_month < per_payment:
        errors.setdefault("cash.per_month", []).append(f"月度限额不得小于单笔限额（{per_payment}）")
    if per_month is not None and per_year is not None and per_year < per_month:
        errors.setdefault("cash.per_year", []).append(f"年度限额不得小于月度限额（{per_month}）")
    three_public = doc.get("three_public")
    if isinstance(three_public, Mapping) and "three_public.econ_codes" not in errors:
        codes = three_public.get("econ_codes")
        budget = three_public.get("annual_budget")
        if isinstance(codes, list) and isinstance(budget, Mapping):
            for code in budget:
                if code not in codes and f"three_public.annual_budget.{code}" not in errors:
                    errors.setdefault(f"three_public.annual_budget.{code}", []).append(
                        "不是“三公”经费科目（three_public.econ_codes）")
    return errors


# ------------------------------------------------------------------------------------------ merging


def deep_merge(base: Mapping, overrides: Mapping) -> dict:
    """A new dict: `base` with `overrides` applied (dicts merge, everything else replaces)."""
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_patch(overrides: Mapping, patch: Mapping) -> dict:
    """Stored overrides with a patch applied: dicts merge, null removes, empty sections disappear."""
    result = copy.deepcopy(dict(overrides))
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, Mapping):
            current = result.get(key)
            result[key] = apply_patch(current if isinstance(current, Mapping) else {}, value)
            if not result[key]:
                result.pop(key)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _without_nulls(value):
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _decimal_text(value: Decimal | int) -> str:
    return format(value, "f") if isinstance(value, Decimal) and value.is_finite() else str(value)


def normalize(value, schema: Mapping = SETTINGS_SCHEMA):
    """JSON numbers where the schema wants amounts or codes become strings ("5000", "4999.99", "30201").

    Floats are left alone so the schema refuses them: money never goes through binary floating point.
    """
    kind = schema.get("x-kind")
    if kind and isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _decimal_text(value)
    if isinstance(value, Mapping):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        return {key: normalize(item, properties.get(key) or (extra if isinstance(extra, Mapping) else {}))
                for key, item in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [normalize(item, schema["items"]) for item in value]
    return value


def patch_from_path(key_path: str, value) -> dict:
    """"tiers.t2", "6000" -> {"tiers": {"t2": "6000"}}."""
    parts = (key_path or "").split(".")
    if not all(p.strip() for p in parts):
        raise InvalidInput("设置项路径有误", {"key": [f"{key_path!r} 应为以 . 分隔的设置项路径，如 tiers.t2"]})
    patch: dict = {}
    node = patch
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return patch


# ---------------------------------------------------------------------------------------- use cases


def settings_for(session: Session, township_id: int) -> dict:
    """The township's effective settings: DEFAULTS deep-merged with what it stored."""
    row = session.get(TownshipSettings, township_id)
    return deep_merge(DEFAULTS, row.settings if row is not None and row.settings else {})


def stored_overrides(session: Session, township_id: int) -> TownshipSettings | None:
    return session.get(TownshipSettings, township_id)


def update_settings(session: Session, township_id: int, patch: dict, actor: User | None, now: datetime) -> dict:
    """Apply a patch to the township's settings, validate the result, commit; return the effective settings.

    `actor` None is the operator at the command line; a user must be an admin of the township or above.
    Invalid settings raise InvalidInput with field paths ("tiers.t2") and nothing is saved.
    """
    if not isinstance(patch, Mapping):
        raise InvalidInput("设置须为 JSON 对象", {"_schema": ["须为对象（键值对）"]})
    township = session.get(Org, township_id)
    if township is None or township.kind != OrgKind.TOWNSHIP:
        raise NotFound("没有这个乡镇")
    if actor is not None and not may_edit(actor, township):
        if may_read(actor, township) or sees(actor, township):
            raise Forbidden("只有系统管理员可以修改乡镇设置")
        raise NotFound("没有这个乡镇")
    row = session.get(TownshipSettings, township_id, with_for_update=True, populate_existing=True)
    before = dict(row.settings or {}) if row is not None else {}
    patch = normalize(patch)
    overrides = apply_patch(before, patch)
    merged = deep_merge(DEFAULTS, overrides)
    # The patch on its own too: an unknown section given as {} would otherwise vanish unnoticed.
    errors = validate_settings(_without_nulls(patch))
    for field, messages in validate_settings(merged).items():
        errors.setdefault(field, []).extend(m for m in messages if m not in errors[field])
    if errors:
        session.rollback()
        raise InvalidInput("设置有误，未保存", errors)
    if overrides == before:
        session.rollback()
        return merged
    if row is None:
        row = TownshipSettings(township_id=township_id)
        session.add(row)
    row.settings, row.updated_at, row.updated_by_id = overrides, now, actor.id if actor is not None else None
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("设置正被他人同时修改，请重试") from exc
    log.info("township %s settings changed by %s: %s", township.code,
             actor.username if actor is not None else "cli", patch)
    return merged


def tier_for(settings: Mapping, amount) -> tuple[str, int]:
    """The amount tier: ("T0", 0) below t1, ("T1", 1) from t1, ("T2", 2) from t2, ("T3", 3) from t3."""
    amount = money(amount)
    rank = sum(amount >= money(settings["tiers"][key]) for key in ("t1", "t2", "t3"))
    return TIERS[rank], rank


# ------------------------------------------------------------------------------------------- access

READ_ROLES = frozenset({Role.ADMIN, Role.FINANCE_HEAD, Role.SUPERVISOR, Role.PROCESS_OWNER})
EDIT_ROLES = frozenset({Role.ADMIN})


def _at_or_above(user: User, township: Org, roles) -> bool:
    return any(g.role in roles and township.path.startswith(g.org.path) for g in user.grants)


def may_read(user: User, township: Org) -> bool:
    """Admins, finance heads, supervisors and process owners of the township or above."""
    return _at_or_above(user, township, READ_ROLES)


def may_edit(user: User, township: Org) -> bool:
    """Admins of the township or above."""
    return _at_or_above(user, township, EDIT_ROLES)


def sees(user: User, township: Org) -> bool:
    """The user works in, under or above the township (others are not told it exists)."""
    return any(township.path.startswith(g.org.path) or g.org.path.startswith(township.path) for g in user.grants)
