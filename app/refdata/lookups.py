"""Reading the code tables: names, existence, the C15 mapping, and the field check the budget forms use.

A deactivated code keeps its name (old records still show it) but no longer counts as existing for
new entries. "Leaf" means the level a budget line is coded at: a 功能分类 项 (7 digits), an 经济分类 款
(5 digits); in the other tables a code without active children.
"""
from sqlalchemy import exists as sql_exists
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import RefCode, RefKind
from app.refdata.rules import LEAF_LENGTH, LEVEL_NAMES, kind_label, level_name


def find(session: Session, kind: str, code: str | None) -> RefCode | None:
    if not code:
        return None
    return session.scalar(select(RefCode).where(RefCode.kind == kind, RefCode.code == code))


def name_of(session: Session, kind: str, code: str | None) -> str | None:
    """The code's name (deactivated codes included), or None when there is no such code."""
    row = find(session, kind, code)
    return row.name if row else None


def is_leaf(session: Session, row: RefCode) -> bool:
    if row.kind in LEAF_LENGTH:
        return len(row.code) == LEAF_LENGTH[row.kind]
    has_children = session.scalar(select(sql_exists().where(
        RefCode.kind == row.kind, RefCode.parent_code == row.code, RefCode.active.is_(True))))
    return not has_children


def exists(session: Session, kind: str, code: str | None, *, leaf: bool = False,
           include_inactive: bool = False) -> bool:
    """Is `code` an active code of `kind` (any code with include_inactive), at leaf level when leaf=True?"""
    row = find(session, kind, code)
    if row is None or not (row.active or include_inactive):
        return False
    return is_leaf(session, row) if leaf else True


def gov_code_for(session: Session, dept_code: str | None) -> str | None:
    """The 政府预算经济分类 a 部门预算经济分类 款 maps to (C15), or None (unknown code, or a 类)."""
    row = find(session, RefKind.ECON_DEPT, dept_code)
    return row.gov_code if row else None


FIELDS = (
    ("func_code", RefKind.FUNCTION),
    ("econ_dept_code", RefKind.ECON_DEPT),
    ("econ_gov_code", RefKind.ECON_GOV),
    ("fund_nature_code", RefKind.FUND_NATURE),
)


def _described(row: RefCode) -> str:
    return f"{row.code}（{row.name}）"


def _leaf_message(kind: str, row: RefCode) -> str:
    if kind in LEAF_LENGTH:
        length = LEAF_LENGTH[kind]
        return (f"{kind_label(kind)}须选到{LEVEL_NAMES[length]}级（{length} 位），"
                f"{_described(row)}是{level_name(kind, row.code)}")
    return f"{kind_label(kind)}须选到末级，{_described(row)}下还有下级"


def check_codes(session: Session, *, func_code: str | None = None, econ_dept_code: str | None = None,
                econ_gov_code: str | None = None, fund_nature_code: str | None = None) -> dict[str, list[str]]:
    """Check the codes of a budget line; {field: [messages]}, empty when all are fine.

    Only the fields given (not None) are checked. Each must be an active code at leaf level; when both
    economic codes are given, the government one must be the one the departmental one maps to (C15).
    """
    given = {"func_code": func_code, "econ_dept_code": econ_dept_code, "econ_gov_code": econ_gov_code,
             "fund_nature_code": fund_nature_code}
    errors: dict[str, list[str]] = {}
    good: dict[str, RefCode] = {}
    for field, kind in FIELDS:
        value = given[field]
        if value is None:
            continue
        code = str(value).strip()
        label = kind_label(kind)
        row = find(session, kind, code)
        if not code:
            errors[field] = [f"请填写{label}"]
        elif row is None:
            errors[field] = [f"{label} {code} 不存在"]
        elif not row.active:
            errors[field] = [f"{label} {_described(row)}已停用"]
        elif not is_leaf(session, row):
            errors[field] = [_leaf_message(kind, row)]
        else:
            good[field] = row
    dept, gov = good.get("econ_dept_code"), good.get("econ_gov_code")
    if dept is not None and gov is not None:
        if not dept.gov_code:
            errors["econ_dept_code"] = [f"部门预算经济分类 {_described(dept)}没有对应的政府预算经济分类（C15），"
                                        "请先在代码表中补上"]
        elif dept.gov_code != gov.code:
            mapped = find(session, RefKind.ECON_GOV, dept.gov_code)
            target = _described(mapped) if mapped else dept.gov_code
            errors["econ_gov_code"] = [f"政府预算经济分类应为 {target}：部门预算经济分类 {_described(dept)}"
                                       f"对应 {dept.gov_code}（C15），不能用 {gov.code}"]
    return errors
