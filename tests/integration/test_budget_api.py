"""The budget's read side through the API: projects, indicators with balances, totals, payments, trial balance,
the bank batch file; each user sees their unit, the finance office and the leaders their whole township.

The demo township's people log in; its projects, indicators and payments are built here with the models and
the ledger (the processes that make them through BPMN are written elsewhere), moved as those processes will.
"""
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from app import accounting, ledger
from app.bank import batch_file
from app.models import (
    BankBatch,
    BudgetLine,
    Indicator,
    Org,
    Payment,
    PaymentStatus,
    ProcessDefinition,
    ProcessInstance,
    Project,
    User,
)

YEAR = 2026
NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
MARCH = date(2026, 3, 1)


class BudgetBook:
    """Projects, indicators and payments of the demo township, moved in the ledger as the processes will."""

    def __init__(self, session):
        self.session = session
        self.keys = count(1)
        # The requests the payments hang on are rows only (no saved process state): this suite reads them.
        self.definition = session.scalar(select(ProcessDefinition).where(ProcessDefinition.process_id == "payment")
                                         .order_by(ProcessDefinition.version.desc()).limit(1))
        if self.definition is None:
            self.definition = ProcessDefinition(
                process_id="payment", version=1, name="资金支付", sha256="0" * 64, filename="payment.bpmn",
                bpmn_xml="<definitions/>", forms={}, starter_role="clerk", called_process_ids=[], deployed_at=NOW)
            session.add(self.definition)
            session.flush()
        accounting.seed_chart(session)

    def org(self, code: str) -> Org:
        return self.session.scalar(select(Org).where(Org.code == code))

    def user(self, username: str) -> User:
        return self.session.scalar(select(User).where(User.username == username))

    def key(self, what: str) -> str:
        return f"test:{what}:{next(self.keys)}"

    def project(self, unit: str, code: str, name: str, *, status="in_library", start=YEAR, end=YEAR,
                goals=None) -> Project:
        org = self.org(unit)
        project = Project(code=code, name=name, org_id=org.id, township_id=org.parent_id, category_code="1",
                          start_year=start, end_year=end, total_amount=Decimal("500000.00"), status=status,
                          goals=goals or [], created_by_id=self.user("nyb_clerk").id, created_at=NOW, updated_at=NOW)
        self.session.add(project)
        self.session.flush()
        return project

    def indicator(self, project: Project, code: str, amount="100000.00", *, year=YEAR, allocate=True,
                  **flags) -> Indicator:
        indicator = Indicator(code=code, fiscal_year=year, township_id=project.township_id, org_id=project.org_id,
                              project_id=project.id, func_code="2130199", econ_dept_code="30201",
                              econ_gov_code="50201", fund_nature_code="111", amount=Decimal(amount),
                              created_at=NOW, **flags)
        self.session.add(indicator)
        self.session.flush()
        ledger.register(self.session, indicator, amount, key=self.key("register"), now=NOW)
        if allocate:
            ledger.allocate(self.session, indicator, amount, key=self.key("allocate"), now=NOW)
        return indicator

    def instance(self, unit: str, title: str, initiator: str = "nyb_clerk") -> ProcessInstance:
        instance = ProcessInstance(definition_id=self.definition.id, process_id="payment", org_id=self.org(unit).id,
                                   initiator_id=self.user(initiator).id, title=title, created_at=NOW, updated_at=NOW,
                                   state="{}")
        self.session.add(instance)
        self.session.flush()
        return instance

    def payment(self, indicator: Indicator, amount: str, status=PaymentStatus.RESERVED, *, instance=None,
                initiator="nyb_clerk", bank_ref=None, batch=None) -> Payment:
        """A payment that went as far as `status`: reserved, submitted (with a bank reference) or paid (posted)."""
        org = self.session.get(Org, indicator.org_id)
        instance = instance or self.instance(org.code, f"支付 {amount} 元", initiator)
        payment = Payment(
            instance_id=instance.id, org_id=indicator.org_id, township_id=indicator.township_id,
            indicator_id=indicator.id, fiscal_year=indicator.fiscal_year, amount=Decimal(amount),
            purpose="购买办公用品", purpose_key=f"{indicator.project_id}:30201", func_code=indicator.func_code,
            econ_dept_code=indicator.econ_dept_code, payee_name="镇供销社", payee_account="6222000011112222",
            payee_bank="农商银行示范镇支行", tier="T1", status=PaymentStatus.DRAFT, created_at=NOW, batch_id=batch)
        self.session.add(payment)
        self.session.flush()
        extra = dict(instance_id=instance.id, payment_id=payment.id)
        ledger.reserve(self.session, indicator, amount, key=self.key("reserve"), now=NOW, **extra)
        payment.status = PaymentStatus.RESERVED
        if status in (PaymentStatus.SUBMITTED, PaymentStatus.PAID):
            payment.bank_ref = bank_ref or f"ZF20260310{payment.id:010d}"
            payment.status, payment.submitted_at = PaymentStatus.SUBMITTED, NOW
        if status == PaymentStatus.PAID:
            ledger.post(self.session, indicator, amount, key=self.key("post"), now=NOW, **extra)
            payment.status, payment.paid_at = PaymentStatus.PAID, NOW
            accounting.post_payment(self.session, payment, now=NOW)
        self.session.flush()
        return payment

    def batch(self, payments: list[Payment]) -> BankBatch:
        batch = BankBatch(number=f"PL20260310-{payments[0].id:08d}", bank="file", created_at=NOW,
                          file_name=f"支付批次_20260310_{payments[0].id:08d}.csv", content="")
        self.session.add(batch)
        self.session.flush()
        for p in payments:
            p.batch_id = batch.id
        names = {p.org_id: self.session.get(Org, p.org_id).name for p in payments}
        batch.content = batch_file(batch, payments, names)
        self.session.flush()
        return batch

    def commit(self):
        self.session.commit()


@pytest.fixture
def book(demo, db_session):
    return BudgetBook(db_session)


@pytest.fixture
def township(book):
    """Two units of 示范镇 with a project and indicators each, one in 青山镇, and money moved on them.

    农业农村办 office supplies: 100,000 allotted; 5,000 frozen; a 3,000 payment in flight; a 2,000 payment paid.
    """
    b = book
    nyb = b.project("SFZ-NYB", "P-NYB-01", "农技推广", goals=[
        {"goal": "推广新技术", "indicator": "培训人次", "target": 300, "unit": "人次"}])
    office = b.indicator(nyb, "BGT-NYB-01", "100000.00", plan_controlled=True, three_guarantees=True)
    seeds = b.indicator(nyb, "BGT-NYB-02", "20000.00", earmarked=True)
    ledger.freeze(b.session, office, "5000.00", key=b.key("freeze"), now=NOW)
    ledger.plan_grant(b.session, office, MARCH, "10000.00", key=b.key("plan"), now=NOW)
    ledger.plan_reserve(b.session, office, MARCH, "3000.00", key=b.key("plan-reserve"), now=NOW)
    in_flight = b.payment(office, "3000.00", PaymentStatus.SUBMITTED)
    paid = b.payment(office, "2000.00", PaymentStatus.PAID)
    b.session.add(BudgetLine(instance_id=in_flight.instance_id, project_id=nyb.id, org_id=nyb.org_id,
                             fiscal_year=YEAR, func_code="2130199", econ_dept_code="30201", econ_gov_code="50201",
                             fund_nature_code="111", amount=Decimal("100000.00"), status="approved",
                             indicator_id=office.id))
    swb = b.project("SFZ-SWB", "P-SWB-01", "低保核查")
    care = b.indicator(swb, "BGT-SWB-01", "50000.00")
    swb_paid = b.payment(care, "800.00", PaymentStatus.PAID, initiator="swb_clerk")
    batch = b.batch([in_flight])
    qs = b.project("QSZ-ZFB", "P-QS-01", "青山镇办公")
    qs_indicator = b.indicator(qs, "BGT-QS-01", "7000.00")
    old = b.project("SFZ-NYB", "P-NYB-OLD", "往年项目", status="closed", start=2024, end=2025)
    last_year = b.indicator(old, "BGT-NYB-2025", "1000.00", year=2025)
    b.commit()
    return dict(nyb=nyb, office=office, seeds=seeds, in_flight=in_flight, paid=paid, swb=swb, care=care,
                swb_paid=swb_paid, batch=batch, qs=qs, qs_indicator=qs_indicator, old=old, last_year=last_year)


def ok(response):
    assert response.status_code == 200, response.json
    return response.json


def codes(items):
    return sorted(i["code"] for i in items)


# --- indicators --------------------------------------------------------------------------------------------

def test_a_clerk_sees_the_indicators_of_their_own_unit_with_balances_and_flags(township, as_user):
    page = ok(as_user("nyb_clerk").get("/api/v1/indicators?year=2026"))
    assert codes(page["items"]) == ["BGT-NYB-01", "BGT-NYB-02"]
    assert page["total"] == 2
    office = next(i for i in page["items"] if i["code"] == "BGT-NYB-01")
    assert office["balances"] == {"allotted": "100000.00", "used": "5000.00", "paid": "2000.00",
                                  "in_flight": "3000.00", "frozen": "5000.00", "available": "90000.00",
                                  "unallocated": "0.00", "carried": "0.00"}
    assert (office["plan_controlled"], office["three_guarantees"], office["earmarked"]) == (True, True, False)
    assert office["org"] == {"code": "SFZ-NYB", "name": "农业农村办"}
    assert office["project"]["code"] == "P-NYB-01"
    seeds = next(i for i in page["items"] if i["code"] == "BGT-NYB-02")
    assert seeds["earmarked"] is True and seeds["balances"]["available"] == "20000.00"


@pytest.mark.parametrize("username, expected", [
    ("cz_reviewer", ["BGT-NYB-01", "BGT-NYB-02", "BGT-SWB-01"]),
    ("guoku", ["BGT-NYB-01", "BGT-NYB-02", "BGT-SWB-01"]),
    ("zhenzhang", ["BGT-NYB-01", "BGT-NYB-02", "BGT-SWB-01"]),
    ("duban", ["BGT-NYB-01", "BGT-NYB-02", "BGT-SWB-01"]),
    ("renda", ["BGT-NYB-01", "BGT-NYB-02", "BGT-SWB-01"]),
    ("shenji", ["BGT-NYB-01", "BGT-NYB-02", "BGT-QS-01", "BGT-SWB-01"]),  # the county's audit
    ("swb_head", ["BGT-SWB-01"]),
    ("swb_clerk", ["BGT-SWB-01"]),
    ("liucheng", []),  # 流程管理员 owns diagrams, not budgets
    ("qs_reviewer", ["BGT-QS-01"]),
    ("qs_clerk", ["BGT-QS-01"]),
])
def test_each_role_sees_its_unit_or_its_whole_township(township, as_user, username, expected):
    assert codes(ok(as_user(username).get("/api/v1/indicators?year=2026"))["items"]) == expected


def test_indicators_filter_by_year_org_project_and_code_and_come_in_pages(township, as_user):
    reviewer = as_user("cz_reviewer")

    def listed(query):
        return codes(ok(reviewer.get(f"/api/v1/indicators?{query}"))["items"])

    assert listed("year=2025") == ["BGT-NYB-2025"]
    assert listed("org=SFZ-SWB") == ["BGT-SWB-01"]
    assert listed("org=QSZ-ZFB") == []  # another township's unit: nothing, not an error
    assert listed("project=P-NYB-01") == ["BGT-NYB-01", "BGT-NYB-02"]
    assert listed("code=BGT-NYB-0") == ["BGT-NYB-01", "BGT-NYB-02"]
    assert listed("code=NYB") == []  # a prefix, not a substring
    first = ok(reviewer.get("/api/v1/indicators?per_page=2&page=1"))
    second = ok(reviewer.get("/api/v1/indicators?per_page=2&page=2"))
    beyond = ok(reviewer.get("/api/v1/indicators?per_page=2&page=9"))
    assert (first["total"], len(first["items"]), second["total"], len(second["items"])) == (4, 2, 4, 2)
    assert (beyond["total"], beyond["items"]) == (4, [])
    assert {i["code"] for i in first["items"]} | {i["code"] for i in second["items"]} == {
        "BGT-NYB-01", "BGT-NYB-02", "BGT-SWB-01", "BGT-NYB-2025"}


def test_bad_list_arguments_answer_400_with_field_messages(township, as_user):
    response = as_user("cz_reviewer").get("/api/v1/indicators?year=abc&per_page=1000")
    assert response.status_code == 400
    assert response.json["error"] == "validation_error"
    assert response.json["details"] == {"year": ["须为整数"], "per_page": ["须在 1 到 100 之间"]}


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *args):
        self.count += 1


def statements_for(api, url) -> int:
    counter = Statements()
    event.listen(Engine, "before_cursor_execute", counter)
    try:
        ok(api.get(url))
    finally:
        event.remove(Engine, "before_cursor_execute", counter)
    return counter.count


def test_the_indicator_list_reads_balances_in_one_statement_however_long_the_page(township, book, as_user):
    reviewer = as_user("cz_reviewer")
    few = statements_for(reviewer, "/api/v1/indicators?per_page=100")
    project = township["swb"]
    for n in range(12):
        book.indicator(project, f"BGT-SWB-X{n:02d}", "100.00")
    book.commit()
    many = statements_for(reviewer, "/api/v1/indicators?per_page=100")
    assert many == few
    assert ok(reviewer.get("/api/v1/indicators?per_page=100"))["total"] == 16


def test_an_indicator_shows_its_balances_monthly_plan_and_movements(township, as_user):
    office = township["office"]
    detail = ok(as_user("nyb_head").get(f"/api/v1/indicators/{office.id}"))
    assert detail["balances"]["available"] == "90000.00"
    assert detail["plans"] == [{"month": "2026-03", "granted": "10000.00", "available": "7000.00",
                                "in_flight": "3000.00", "used": "0.00"}]
    assert [(m["kind"], m["amount"]) for m in detail["movements"]] == [
        ("register", "100000.00"), ("allocate", "100000.00"), ("freeze", "5000.00"), ("plan_grant", "10000.00"),
        ("plan_reserve", "3000.00"), ("reserve", "3000.00"), ("reserve", "2000.00"), ("post", "2000.00")]
    post = detail["movements"][-1]
    assert post["kind_name"] == "支付成功"
    assert (post["debit"]["kind"], post["debit"]["kind_name"], post["credit"]["kind"]) == (
        "paid", "已支付指标", "in_flight")
    assert post["payment_id"] == township["paid"].id
    assert detail["movements"][0]["credit"] == {"kind": "source", "kind_name": "指标来源", "indicator_id": None,
                                                "month": None}
    assert detail["movements"][3]["debit"]["month"] == "2026-03"


@pytest.mark.parametrize("username", ["swb_clerk", "swb_head", "qs_reviewer", "liucheng"])
def test_an_indicator_outside_ones_scope_is_404(township, as_user, username):
    response = as_user(username).get(f"/api/v1/indicators/{township['office'].id}")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_an_indicator_that_does_not_exist_is_404(township, as_user):
    assert as_user("cz_head").get("/api/v1/indicators/999999").status_code == 404


# --- projects ----------------------------------------------------------------------------------------------

def test_projects_are_listed_within_scope_and_filtered(township, as_user):
    def listed(username, query=""):
        return codes(ok(as_user(username).get(f"/api/v1/projects?{query}"))["items"])

    assert listed("nyb_clerk") == ["P-NYB-01", "P-NYB-OLD"]
    assert listed("cz_head") == ["P-NYB-01", "P-NYB-OLD", "P-SWB-01"]
    assert listed("qs_clerk") == ["P-QS-01"]
    assert listed("cz_head", "status=closed") == ["P-NYB-OLD"]
    assert listed("cz_head", "year=2025") == ["P-NYB-OLD"]
    assert listed("cz_head", "org=SFZ-SWB") == ["P-SWB-01"]
    assert listed("cz_head", "q=农技") == ["P-NYB-01"]
    assert listed("cz_head", "q=swb") == ["P-SWB-01"]  # the code, case-insensitively
    assert as_user("cz_head").get("/api/v1/projects?status=lost").status_code == 400


def test_a_project_shows_its_goals_lines_and_indicators_with_balances(township, as_user):
    detail = ok(as_user("nyb_clerk").get(f"/api/v1/projects/{township['nyb'].id}"))
    assert detail["name"] == "农技推广" and detail["status"] == "in_library"
    assert detail["goals"] == [{"goal": "推广新技术", "indicator": "培训人次", "target": 300, "unit": "人次"}]
    assert [(line["amount"], line["indicator_id"]) for line in detail["lines"]] == [
        ("100000.00", township["office"].id)]
    assert [(i["code"], i["balances"]["available"]) for i in detail["indicators"]] == [
        ("BGT-NYB-01", "90000.00"), ("BGT-NYB-02", "20000.00")]


def test_a_project_of_another_unit_or_township_is_404(township, as_user):
    assert as_user("swb_clerk").get(f"/api/v1/projects/{township['nyb'].id}").status_code == 404
    assert as_user("cz_reviewer").get(f"/api/v1/projects/{township['qs'].id}").status_code == 404
    assert as_user("qs_reviewer").get(f"/api/v1/projects/{township['qs'].id}").status_code == 200


# --- totals ------------------------------------------------------------------------------------------------

def test_unit_totals_default_to_ones_own_unit(township, as_user):
    summary = ok(as_user("nyb_clerk").get("/api/v1/balances?year=2026"))
    assert (summary["level"], summary["org"]["code"], summary["fiscal_year"]) == ("unit", "SFZ-NYB", 2026)
    assert summary["balances"]["allotted"] == "120000.00"
    assert summary["balances"]["available"] == "110000.00"
    assert summary["balances"]["paid"] == "2000.00"


def test_township_totals_are_for_the_finance_office_and_leaders(township, as_user):
    summary = ok(as_user("cz_reviewer").get("/api/v1/balances?level=township&year=2026"))
    assert summary["org"] == {"code": "SFZ", "name": "示范镇"}
    assert summary["balances"]["allotted"] == "170000.00"
    assert summary["balances"]["paid"] == "2800.00"
    assert summary["balances"]["used"] == "5800.00"
    unit = ok(as_user("zhenzhang").get("/api/v1/balances?level=unit&org=SFZ-SWB&year=2026"))
    assert unit["balances"]["available"] == "49200.00"
    assert ok(as_user("shenji").get("/api/v1/balances?level=township&org=QSZ&year=2026"))["balances"][
        "allotted"] == "7000.00"


def test_totals_outside_scope_or_of_the_wrong_kind_are_refused(township, as_user):
    clerk = as_user("nyb_clerk")
    assert clerk.get("/api/v1/balances?level=township").status_code == 403  # their own township
    assert clerk.get("/api/v1/balances?level=unit&org=SFZ-SWB").status_code == 404
    assert clerk.get("/api/v1/balances?level=unit&org=NOPE").status_code == 404
    assert as_user("qs_reviewer").get("/api/v1/balances?level=township&org=SFZ").status_code == 404
    wrong = as_user("cz_head").get("/api/v1/balances?level=unit&org=SFZ")
    assert wrong.status_code == 400 and "org" in wrong.json["details"]
    assert as_user("cz_head").get("/api/v1/balances?level=unit").status_code == 400  # which unit?
    assert as_user("cz_head").get("/api/v1/balances?level=county").status_code == 400


# --- payments ----------------------------------------------------------------------------------------------

def test_a_payment_shows_status_amount_tier_bank_reference_and_voucher_numbers(township, as_user):
    paid = township["paid"]
    body = ok(as_user("nyb_clerk").get(f"/api/v1/payments/{paid.id}"))
    assert (body["status"], body["amount"], body["tier"]) == ("paid", "2000.00", "T1")
    assert body["bank_ref"] == paid.bank_ref
    assert [(v["number"], v["kind"]) for v in body["vouchers"]] == [("记-2026-SFZ-NYB-000001", "payment")]
    assert body["indicator"] == {"id": township["office"].id, "code": "BGT-NYB-01"}
    assert body["batch"] is None
    in_flight = ok(as_user("cz_reviewer").get(f"/api/v1/instances/{township['in_flight'].instance_id}/payment"))
    assert (in_flight["status"], in_flight["vouchers"]) == ("submitted", [])
    assert in_flight["batch"]["number"] == township["batch"].number


def test_a_payment_is_404_outside_scope_unless_one_took_part_in_its_request(township, book, as_user):
    swb_paid = township["swb_paid"]
    assert as_user("nyb_clerk").get(f"/api/v1/payments/{swb_paid.id}").status_code == 404
    assert as_user("qs_reviewer").get(f"/api/v1/payments/{swb_paid.id}").status_code == 404
    assert as_user("nyb_clerk").get(f"/api/v1/instances/{swb_paid.instance_id}/payment").status_code == 404
    assert as_user("swb_clerk").get(f"/api/v1/payments/{swb_paid.id}").status_code == 200
    # a clerk of another unit who started the request (e.g. for a shared purchase) sees it through the request
    shared = book.payment(township["care"], "100.00", initiator="nyb_clerk")
    book.commit()
    assert as_user("nyb_clerk").get(f"/api/v1/payments/{shared.id}").status_code == 200


def test_a_request_without_a_payment_answers_404(township, book, as_user):
    bare = book.instance("SFZ-NYB", "还没有支付记录")
    book.commit()
    assert as_user("nyb_clerk").get(f"/api/v1/instances/{bare.id}/payment").status_code == 404
    assert as_user("nyb_clerk").get("/api/v1/payments/999999").status_code == 404


# --- trial balance -----------------------------------------------------------------------------------------

def test_the_finance_office_sees_both_trial_balances_balanced(township, as_user):
    body = ok(as_user("cz_reviewer").get("/api/v1/trial-balance?year=2026"))
    assert body["township"]["code"] == "SFZ"
    books = body["accounting"]
    assert books["balanced"] is True
    assert books["total_debit"] == books["total_credit"] == "5600.00"  # 2,000 + 800, both legs
    assert {side: t["debit"] == t["credit"] for side, t in books["totals"].items()} == {"financial": True,
                                                                                          "budget": True}
    assert {r["code"] for r in books["rows"]} >= {"4001", "6001"}
    ledger_side = body["ledger"]
    assert ledger_side["balanced"] is True
    assert ledger_side["total"]["debits"] == ledger_side["total"]["credits"]
    assert ledger_side["total"]["balance"] == "0.00"
    rows = {r["kind"]: r for r in ledger_side["rows"]}
    assert rows["source"]["balance"] == "-170000.00" and rows["source"]["kind_name"] == "指标来源"
    assert rows["in_flight"]["balance"] == "3000.00"


def test_the_trial_balance_is_the_finance_offices_and_audits_only(township, as_user):
    assert as_user("shenji").get("/api/v1/trial-balance?township=SFZ&year=2026").status_code == 200
    assert as_user("guoku").get("/api/v1/trial-balance?year=2026").status_code == 200
    assert as_user("zhenzhang").get("/api/v1/trial-balance?township=SFZ").status_code == 403
    assert as_user("nyb_clerk").get("/api/v1/trial-balance?township=SFZ").status_code == 404
    assert as_user("qs_reviewer").get("/api/v1/trial-balance?township=SFZ").status_code == 404
    assert as_user("shenji").get("/api/v1/trial-balance").status_code == 400  # the county: which township?
    assert as_user("cz_head").get("/api/v1/trial-balance?township=SFZ-NYB").status_code == 404


# --- the bank batch file -----------------------------------------------------------------------------------

def test_the_treasury_downloads_the_batch_file_as_csv_with_a_bom(township, as_user):
    batch = township["batch"]
    response = as_user("guoku").get(f"/api/v1/bank/batches/{batch.id}/file")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("序号,业务编号,收款人名称")
    assert township["in_flight"].bank_ref in text and "3000.00" in text
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%94%AF%E4%BB%98%E6%89%B9%E6%AC%A1_" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("username, status", [
    ("cz_head", 403), ("cz_reviewer", 403), ("nyb_clerk", 403), ("qs_reviewer", 404), ("qs_clerk", 404),
])
def test_nobody_but_the_townships_treasury_gets_the_batch_file(township, as_user, username, status):
    response = as_user(username).get(f"/api/v1/bank/batches/{township['batch'].id}/file")
    assert response.status_code == status, response.json
    assert as_user("guoku").get("/api/v1/bank/batches/999999/file").status_code == 404


# --- without logging in ------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/projects", "/api/v1/projects/1", "/api/v1/indicators",
                                 "/api/v1/indicators/1", "/api/v1/balances", "/api/v1/payments/1",
                                 "/api/v1/instances/1/payment", "/api/v1/trial-balance",
                                 "/api/v1/bank/batches/1/file"])
def test_every_read_needs_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
