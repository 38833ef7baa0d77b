"""What a well-formed code of each kind looks like, and where it sits in its tree.

Classifications (支出功能分类, 部门/政府经济分类) are digits whose length is their level, and their
parent is the code cut to the level above: 2010301 -> 20103 -> 201. Fund natures are digits too,
each under a parent it starts with (1 -> 11 -> 111; a province's 11111 under 111). The small tables
(项目类别, 支付方式, 指标来源) take letters and digits, and any parent of their own kind.
"""
import re

from app.models import REF_KIND_NAMES, RefKind

LEVELS = {
    RefKind.FUNCTION: (3, 5, 7),
    RefKind.ECON_DEPT: (3, 5),
    RefKind.ECON_GOV: (3, 5),
}
LEVEL_NAMES = {3: "类", 5: "款", 7: "项"}
# The level a budget line must be coded at: 功能分类 to the 项, 经济分类 to the 款.
LEAF_LENGTH = {kind: lengths[-1] for kind, lengths in LEVELS.items()}

DIGITS = re.compile(r"^[0-9]+$")
FUND_CODE = re.compile(r"^[0-9]{1,16}$")
OTHER_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_NAME = 200


def parse_kind(text: str | None) -> RefKind | None:
    """'function' or its Chinese name '支出功能分类' -> RefKind; None when neither."""
    value = (text or "").strip()
    for kind in RefKind:
        if value.lower() == kind.value or value == REF_KIND_NAMES[kind]:
            return kind
    return None


def kind_label(kind: str) -> str:
    return REF_KIND_NAMES.get(kind, kind)


def code_problem(kind: RefKind, code: str) -> str | None:
    """Why `code` cannot be a code of `kind`, or None when it is well formed."""
    if not code:
        return "编码不能为空"
    if kind in LEVELS:
        lengths = LEVELS[kind]
        if not DIGITS.match(code) or len(code) not in lengths:
            allowed = "、".join(f"{n} 位（{LEVEL_NAMES[n]}）" for n in lengths)
            return f"{kind_label(kind)}编码须为 {allowed}数字"
    elif kind == RefKind.FUND_NATURE:
        if not FUND_CODE.match(code):
            return "资金性质编码须为 1-16 位数字"
    elif not OTHER_CODE.match(code):
        return "编码须为 1-32 位字母、数字、- 或 _"
    return None


def derived_parent(kind: RefKind, code: str) -> str | None:
    """The parent a classification code must have (None for a 类, and for kinds without the rule)."""
    if kind not in LEVELS:
        return None
    lengths = LEVELS[kind]
    if len(code) not in lengths or len(code) == lengths[0]:
        return None
    return code[: lengths[lengths.index(len(code)) - 1]]


def parent_problem(kind: RefKind, code: str, parent: str | None) -> str | None:
    """Why `parent` cannot be the parent of `code` by the shape of the two codes (existence aside)."""
    if kind in LEVELS:
        expected = derived_parent(kind, code)
        if (parent or None) != expected:
            if expected is None:
                return f"{LEVEL_NAMES[len(code)]}级编码没有上级，上级编码应留空"
            return f"上级编码应为 {expected}"
        return None
    if parent is None:
        return None
    if parent == code:
        return "上级编码不能是自己"
    if kind == RefKind.FUND_NATURE and not (code.startswith(parent) and len(parent) < len(code)):
        if len(code) == 1:
            return "一位的资金性质编码没有上级，上级编码应留空"
        return f"资金性质 {code} 的上级须是它开头的几位，如 {code[:-1]}"
    return None


def level_name(kind: str, code: str) -> str:
    return LEVEL_NAMES.get(len(code), "") + "级" if kind in LEVELS else ""
