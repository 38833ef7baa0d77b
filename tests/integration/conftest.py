"""Fixtures for the budget processes: the demo office with code tables and chart, on a pinned clock."""
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import select

from app.models import BudgetLine, Indicator
from tests.integration.office import Office, line, project_data

# A working Monday early in the fiscal year: declarations for 2026 are approved, payments and March plans follow.
MARCH = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in 示范镇


@pytest.fixture
def march():
    with time_machine.travel(MARCH, tick=True) as traveller:
        yield traveller


@pytest.fixture
def office(march, demo, as_user, db_session, client, seeded):
    """示范镇 with its people, processes, code tables and chart of accounts; no budget yet."""
    from app.admin.seed import seed_reference

    seeded("office", lambda: seed_reference(demo), after="demo", traveller=march)
    db_session.expire_all()
    return Office(as_user, db_session, client)


def project_in_library(office: Office, name="高标准农田灌溉配套", amount="80000.00", clerk="nyb_clerk",
                       head="nyb_head") -> str:
    """A project through 项目入库, the short way (no collective study needed below the line)."""
    started = office.start(clerk, "project_entry", project_data(name, amount))
    office.act(head, started["id"])
    office.act("cz_reviewer", started["id"], data={"standards_ok": True})
    if office.where(started["id"]):
        office.act("dangweihui", started["id"], data={"meeting_date": "2026-03-02", "minutes_no": "党委〔2026〕3号",
                                                      "resolution": "同意入库"})
    return office.project(started["id"]).code


def released_indicators(office: Office, lines: list[dict], clerk="nyb_clerk", head="nyb_head") -> list[str]:
    """Budget lines through 预算申报 and the review chain to 批复下达; the indicator codes, in line order."""
    started = office.start(clerk, "budget_declaration", {"title": "2026年度预算申报", "fiscal_year": 2026,
                                                         "lines": lines})
    iid = started["id"]
    office.act(head, iid)
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
    """A project in the library and two indicators of 农业农村办 released: 20,000 for 维修（护）费 and
    10,000 for 专用材料费 under plan control (project code, [indicator codes])."""

    def build():
        project = project_in_library(office, amount="30000.00")
        codes = released_indicators(office, [line(project, "20000.00"),
                                             line(project, "10000.00", econ="30218", plan_controlled=True)])
        return project, codes

    result = seeded("funded", build, after="office", traveller=march)
    office.session.expire_all()
    return result
