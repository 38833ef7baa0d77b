"""A funded 农业农村办 for the page tests of 资金支付: the demo office, a project in the library and two
released indicators, built through the API with the helpers the integration tests use. tests/web cannot
see tests/integration/conftest.py, so its `march` and `office` fixtures and its helpers are imported here and
handed on, with a `funded` of one indicator (its own snapshot name), to the test modules that need them."""
import pytest

from tests.integration.conftest import march, office, project_in_library, released_indicators  # noqa: F401
from tests.integration.office import Office, line, payment_data

PROJECT = "高标准农田灌溉配套"  # project_in_library's default


@pytest.fixture
def funded(office, seeded, march):
    """The project 高标准农田灌溉配套 in the library and a 20,000.00 indicator for 维修（护）费: its code."""

    def build():
        project = project_in_library(office, PROJECT, "30000.00")
        [code] = released_indicators(office, [line(project, "20000.00")])
        return code

    code = seeded("web_funded", build, after="office", traveller=march)
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
