"""The bank's callback: signed by HMAC-SHA256 of the raw body, validated, then settled once and only once.

No user session: the bank is who signs with the shared key. A refused callback (bad signature, bad body,
unknown reference, a payment already settled) moves nothing in the ledger or the books.
"""
import hashlib
import hmac
import json

import pytest
from sqlalchemy import func, select

from app import ledger
from app.admin.seed import seed_reference
from app.approvals.instances import start_instance
from app.models import LedgerTransfer, Payment, PaymentStatus, User, Voucher
from tests.integration.test_budget_api import BudgetBook

SECRET = "bank-shared-secret-for-tests"
URL = "/api/v1/bank/callbacks"


@pytest.fixture
def app(make_app):
    app = make_app(BANK_CALLBACK_SECRET=SECRET, BANK_ADAPTER="file")  # the bank answers only through the callback
    with app.app_context():
        yield app


@pytest.fixture
def book(demo, db_session):
    return BudgetBook(db_session)


@pytest.fixture
def office(book):
    project = book.project("SFZ-NYB", "P-NYB-01", "农技推广")
    indicator = book.indicator(project, "BGT-NYB-01", "100000.00")
    book.commit()
    return indicator


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(client, payload, *, signature=None, content_type="application/json", headers=None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    signed = {"X-Bank-Signature": sign(body) if signature is None else signature} if signature != "" else {}
    return client.post(URL, data=body, content_type=content_type, headers={**signed, **(headers or {})})


def fresh(session) -> None:
    """End the test's own transaction: on SQLite it would keep reading its snapshot from before the request."""
    session.rollback()


class Snapshot:
    """What a refused callback must leave as it was: the indicator's balances, transfers, vouchers, statuses."""

    def __init__(self, session, indicator):
        fresh(session)
        self.balances = ledger.balances(session, indicator.id)
        self.transfers = session.scalar(select(func.count()).select_from(LedgerTransfer))
        self.vouchers = session.scalar(select(func.count()).select_from(Voucher))
        self.statuses = dict(session.execute(select(Payment.id, Payment.status)).all())

    def __eq__(self, other):
        return vars(self) == vars(other)


# --- who may call ------------------------------------------------------------------------------------------

def test_a_callback_without_a_signature_is_401_and_changes_nothing(office, book, client, db_session):
    payment = book.payment(office, "3000.00", PaymentStatus.SUBMITTED)
    book.commit()
    before = Snapshot(db_session, office)
    response = post(client, {"bank_ref": payment.bank_ref, "status": "paid"}, signature="")
    assert response.status_code == 401
    assert response.json["error"] == "signature_missing"
    assert "X-Bank-Signature" in response.json["message"]
    assert Snapshot(db_session, office) == before


@pytest.mark.parametrize("signature", [
    sign(b'{"bank_ref": "other", "status": "paid"}'),  # a signature of another body
    "sha256=" + "0" * 64,
    "md5=" + "0" * 32,
    "sha256=",
    "sha256=非十六进制",
    "garbage",
])
def test_a_callback_with_a_wrong_signature_is_401_and_changes_nothing(office, book, client, db_session, signature):
    payment = book.payment(office, "3000.00", PaymentStatus.SUBMITTED)
    book.commit()
    before = Snapshot(db_session, office)
    response = post(client, {"bank_ref": payment.bank_ref, "status": "paid"}, signature=signature)
    assert response.status_code == 401
    assert response.json["error"] == "bad_signature"
    assert Snapshot(db_session, office) == before


def test_a_signature_made_with_another_key_is_refused(office, book, client):
    payment = book.payment(office, "3000.00", PaymentStatus.SUBMITTED)
    book.commit()
    body = json.dumps({"bank_ref": payment.bank_ref, "status": "paid"}).encode()
    assert post(client, body, signature=sign(body, "not-the-key")).status_code == 401


def test_a_logged_in_user_is_no_substitute_for_the_banks_signature(office, book, as_user):
    payment = book.payment(office, "3000.00", PaymentStatus.SUBMITTED)
    book.commit()
    response = as_user("guoku").post(URL, json={"bank_ref": payment.bank_ref, "status": "paid"})
    assert response.status_code == 401


def test_without_a_configured_key_every_callback_is_503(make_app, demo):
    client = make_app(BANK_CALLBACK_SECRET=None).test_client()
    body = json.dumps({"bank_ref": "ZF1", "status": "paid"}).encode()
    response = post(client, body)
    assert response.status_code == 503
    assert response.json["error"] == "callback_disabled"
    assert "BANK_CALLBACK_SECRET" in response.json["message"]


# --- what the body must be ---------------------------------------------------------------------------------

@pytest.mark.parametrize("payload, details", [
    ({}, {"bank_ref": ["必填"], "status": ["必填"]}),
    ({"bank_ref": "ZF1"}, {"status": ["必填"]}),
    ({"bank_ref": "ZF1", "status": "lost"}, {"status": ["须为以下之一：paid、returned"]}),
    ({"bank_ref": "", "status": "paid"}, {"bank_ref": ["长度须在 1 到 64 之间"]}),
    ({"bank_ref": 12, "status": "paid"}, {"bank_ref": ["须为字符串"]}),
    ({"bank_ref": "ZF1", "status": "paid", "amount": "1.00"}, {"amount": ["不认识的字段"]}),
    ({"bank_ref": "ZF1", "status": "returned", "reason": "x" * 201}, {"reason": ["不能超过 200 个字符"]}),
    ([], {"_schema": ["类型不对"]}),
])
def test_a_bad_body_is_400_with_field_messages(demo, client, payload, details):
    response = post(client, payload)
    assert response.status_code == 400, response.json
    assert response.json["error"] == "validation_error"
    assert response.json["details"] == details


def test_a_body_that_is_not_json_is_400(demo, client):
    response = post(client, b"bank_ref=ZF1&status=paid")
    assert response.status_code == 400
    assert "JSON" in response.json["details"]["_schema"][0]
    plain = post(client, b'{"bank_ref": "ZF1", "status": "paid"}', content_type="text/plain")
    assert plain.status_code == 400
    assert "application/json" in plain.json["message"]


# --- what it does ------------------------------------------------------------------------------------------

def test_an_unknown_bank_reference_is_404_and_changes_nothing(office, book, client, db_session):
    book.payment(office, "3000.00", PaymentStatus.SUBMITTED)
    book.commit()
    before = Snapshot(db_session, office)
    response = post(client, {"bank_ref": "ZF-NO-SUCH", "status": "paid"})
    assert response.status_code == 404
    assert "ZF-NO-SUCH" in response.json["message"]
    assert Snapshot(db_session, office) == before


@pytest.mark.parametrize("status", ["paid"])
def test_paid_again_for_a_paid_payment_is_409_and_changes_nothing(office, book, client, db_session, status):
    payment = book.payment(office, "2000.00", PaymentStatus.PAID)
    book.commit()
    before = Snapshot(db_session, office)
    response = post(client, {"bank_ref": payment.bank_ref, "status": status})
    assert response.status_code == 409
    assert response.json["error"] == "conflict"
    assert payment.bank_ref in response.json["message"] and "已处理" in response.json["message"]
    assert Snapshot(db_session, office) == before
    assert before.balances.paid == 2000


def test_a_return_after_payment_reverses_it_once_and_a_replay_is_409(office, book, client, db_session):
    payment = book.payment(office, "2000.00", PaymentStatus.PAID)
    book.commit()
    payload = {"bank_ref": payment.bank_ref, "status": "returned", "reason": "收款账户已销户"}
    response = post(client, payload)
    assert response.status_code == 200, response.json
    assert response.json == {"bank_ref": payment.bank_ref, "payment_id": payment.id,
                             "instance_id": payment.instance_id, "status": "returned"}
    fresh(db_session)
    returned = db_session.get(Payment, payment.id)
    assert (returned.status, returned.return_reason) == (PaymentStatus.RETURNED, "收款账户已销户")
    balances = ledger.balances(db_session, office.id)
    assert (balances.paid, balances.available) == (0, 100000)
    kinds = db_session.scalars(select(Voucher.kind).where(Voucher.payment_id == payment.id).order_by(Voucher.id))
    assert list(kinds) == ["payment", "reversal"]

    after = Snapshot(db_session, office)
    replay = post(client, payload)
    assert replay.status_code == 409
    assert "已处理" in replay.json["message"]
    assert Snapshot(db_session, office) == after


def test_a_callback_for_a_request_not_waiting_for_the_bank_is_409_and_changes_nothing(
        office, book, demo, client, db_session, claim_data):
    """A submitted payment whose process is not at its bank-answer step: nothing is delivered or posted."""
    clerk = db_session.scalar(select(User).where(User.username == "nyb_clerk"))
    claim = start_instance(demo, clerk, "expense_claim", claim_data)
    payment = book.payment(office, "3000.00", PaymentStatus.SUBMITTED, instance=claim)
    book.commit()
    before = Snapshot(db_session, office)
    response = post(client, {"bank_ref": payment.bank_ref, "status": "paid"})
    assert response.status_code == 409
    assert "等待银行回单" in response.json["message"]
    assert Snapshot(db_session, office) == before


# --- through the payment process ----------------------------------------------------------------------------

# Who takes each step of bpmn/payment.bpmn for a 3,000 元 payment of 农业农村办 (tier T1).
HOLDERS = {"unit_head_review": "nyb_head", "finance_review": "cz_reviewer", "deputy_approve": "deputy",
           "finance_deputy_approve": "finance_deputy", "township_head_approve": "zhenzhang",
           "party_secretary_approve": "shuji", "collective_decision": "dangweihui", "treasury_submit": "guoku"}
STEP_DATA = {"finance_review": {"documents_complete": True}}


@pytest.fixture
def submitted(demo, book, as_user, db_session):
    """A 3,000 元 payment request started and approved through the payment process up to the bank."""
    seed_reference(demo)
    project = book.project("SFZ-NYB", "P2026NYB01", "农技推广")
    indicator = book.indicator(project, "2026NYB0001", "100000.00")
    book.commit()
    clerk = as_user("nyb_clerk")
    started = clerk.post("/api/v1/instances", json={"process_id": "payment", "data": {
        "title": "购买农技推广资料", "indicator_code": "2026NYB0001", "amount": 3000, "payee_name": "镇供销社",
        "payee_account": "6222000011112222", "payee_bank": "农商银行示范镇支行", "invoice_count": 1}})
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    for _ in range(len(HOLDERS)):
        [task] = clerk.get(f"/api/v1/instances/{instance_id}").json["current_tasks"] or [None]
        if task is None:
            break
        done = as_user(HOLDERS[task["bpmn_id"]]).post(f"/api/v1/tasks/{task['id']}/complete", json={
            "decision": "approve", "comment": "同意", "data": STEP_DATA.get(task["bpmn_id"], {})})
        assert done.status_code == 200, done.json
    fresh(db_session)
    payment = db_session.scalar(select(Payment).where(Payment.instance_id == instance_id))
    assert payment.status == PaymentStatus.SUBMITTED
    balances = ledger.balances(db_session, indicator.id)
    assert (balances.in_flight, balances.available) == (3000, 97000)
    return payment, indicator


def test_a_paid_callback_for_a_submitted_payment_resumes_its_process_and_posts_it(submitted, client, db_session,
                                                                                   as_user):
    payment, indicator = submitted
    response = post(client, {"bank_ref": payment.bank_ref, "status": "paid"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "paid"
    fresh(db_session)
    balances = ledger.balances(db_session, indicator.id)
    assert (balances.in_flight, balances.paid, balances.available) == (0, 3000, 97000)
    shown = as_user("nyb_clerk").get(f"/api/v1/instances/{payment.instance_id}/payment").json
    assert shown["status"] == "paid"
    assert [v["kind"] for v in shown["vouchers"]] == ["payment"]
    assert as_user("nyb_clerk").get(f"/api/v1/instances/{payment.instance_id}").json["status"] == "approved"

    after = Snapshot(db_session, indicator)
    replay = post(client, {"bank_ref": payment.bank_ref, "status": "paid"})
    assert replay.status_code == 409
    assert Snapshot(db_session, indicator) == after


def test_a_returned_callback_for_a_submitted_payment_releases_the_amount(submitted, client, db_session, as_user):
    payment, indicator = submitted
    response = post(client, {"bank_ref": payment.bank_ref, "status": "returned", "reason": "收款人户名与账号不符"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "returned"
    fresh(db_session)
    balances = ledger.balances(db_session, indicator.id)
    assert (balances.in_flight, balances.paid, balances.available) == (0, 0, 100000)
    shown = as_user("nyb_clerk").get(f"/api/v1/payments/{payment.id}").json
    assert (shown["status"], shown["return_reason"], shown["vouchers"]) == ("returned", "收款人户名与账号不符", [])
    assert post(client, {"bank_ref": payment.bank_ref, "status": "paid"}).status_code == 409
