"""Load the demo code sets (app/refdata/demo_codes.py) through the same checks and upsert as an import.

Idempotent: a second run finds every code unchanged; a demo code edited since is put back. Codes
added by imports are left alone. Flushes in the caller's transaction; the caller commits.
"""
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import RefKind
from app.refdata import demo_codes
from app.refdata.importer import ImportReport, Row, load_rows
from app.refdata.rules import derived_parent


def demo_rows() -> list[Row]:
    rows: list[Row] = []

    def add(kind: RefKind, code: str, name: str, parent: str | None = None, gov: str | None = None,
            active: bool = True) -> None:
        rows.append(Row(None, kind, code, name, parent or derived_parent(kind, code), gov, active))

    for code, name in demo_codes.FUNCTION:
        add(RefKind.FUNCTION, code, name)
    for code, name in demo_codes.ECON_GOV:
        add(RefKind.ECON_GOV, code, name)
    for code, name, gov in demo_codes.ECON_DEPT:
        add(RefKind.ECON_DEPT, code, name, gov=gov)
    for code, name, parent in demo_codes.FUND_NATURE:
        add(RefKind.FUND_NATURE, code, name, parent)
    for code, name, parent in demo_codes.PROJECT_CATEGORY:
        add(RefKind.PROJECT_CATEGORY, code, name, parent)
    for code, name, parent, active in demo_codes.PAY_TYPE:
        add(RefKind.PAY_TYPE, code, name, parent, active=active)
    for code, name, parent in demo_codes.INDICATOR_SOURCE:
        add(RefKind.INDICATOR_SOURCE, code, name, parent)
    return rows


def seed_refdata(session: Session, now: datetime) -> ImportReport:
    """Upsert the demo codes; the report counts added, updated and unchanged codes per kind."""
    return load_rows(session, demo_rows(), now, ImportReport("示范代码"))
