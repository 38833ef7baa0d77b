"""A funded 农业农村办 for the page tests of 资金支付: the demo office, a project in the library and two
released indicators, built through the API with the helpers the integration tests use. tests/web cannot
see tests/integration/conftest.py, so its `office` and `funded` fixtures are rebuilt here (own snapshot
names, the same pinned clock) and imported by the test modules that need them."""
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from app.models import BudgetLine, Indicator
from tests.integration.office import Office, line, payment_data, project_data

MARCH = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a working Monday, 09:00 in 示范镇
PROJECT = "高标准农田灌溉配套"


@pytest.fixture
def march():
    with time_machine.travel(MARCH, tick=True) as traveller:
        yield traveller


@pytest.fixture
def office(march, demo, as_user, db_session, client, seeded):
    from app.admin.seed import seed_reference

    seeded("web_office", lambda: seed_reference(demo), after="demo", traveller=march)
    db_session.expire_all()
    return Office(as_user, db_session, client)


def _released(office: Office, lines: list[dict]) -> list[str]:
    """Budget lines through 预算申报 and its review chain to 批复下达 (as tests/integration/conftest.py does)."""
    iid = office.start("nyb_clerk", "budget_declaration", {"title": "2026年度预算申报", "fiscal_year": 2026,
                                                           "lines": lines})["id"]
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid)
    office.act("cz_head", iid, data={"consolidation_note": "已汇总，符合控制数"})
    office.act("zhenzhang", iid, data={"meeting_date": "2026-03-02", "minutes_no": "镇长办公会〔2026〕2号"})
    office.act("dangweihui", iid, data={"meeting_date": "2026-03-02", "minutes_no": "党委〔2026〕4号"})
    office.act("renda", iid, data={"session_name": "示范镇第十九届人民代表大会第五次会议",
                                   "resolution_no": "镇人大〔2026〕1号"})
    office.act("cz_reviewer2", iid, data={"doc_no": "示财预〔2026〕8号"})
    office.session.expire_all()
    return list(office.session.scalars(select(Indicator.code).join(BudgetLine, BudgetLine.indicator_id == Indicator.id)
                                       .where(BudgetLine.instance_id == iid).order_by(BudgetLine.id)))


@pytest.fixture
def funded(office, seeded, march):
    """The project 高标准农田灌溉配套 in the library and a 20,000.00 indicator for 维修（护）费: its code."""

    def build():
        started = office.start("nyb_clerk", "project_entry", project_data(PROJECT, "30000.00"))
        office.act("nyb_head", started["id"])
        office.act("cz_reviewer", started["id"], data={"standards_ok": True})
        if office.where(started["id"]):
            office.act("dangweihui", started["id"], data={"meeting_date": "2026-03-02", "minutes_no": "党委〔2026〕3号",
                                                          "resolution": "同意入库"})
        project = office.project(started["id"]).code
        [code] = _released(office, [line(project, "20000.00")])
        return code

    code = seeded("web_funded", build, after="web_office", traveller=march)
    office.session.expire_all()
    return code


def pay(office: Office, code: str, amount="800.00", **extra) -> int:
    """A 资金支付 of `amount` from the indicator, submitted by 农业农村办's clerk: the request's id."""
    return office.start("nyb_clerk", "payment", payment_data(code, amount, **extra))["id"]


def to_treasury(office: Office, iid: int) -> None:
    """A small payment (T0) through the unit head, the compliance review and the deputy."""
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    office.act("deputy", iid)
    assert office.where(iid) == ["treasury_submit"]


__all__ = ["march", "office", "funded", "pay", "to_treasury", "PROJECT"]
