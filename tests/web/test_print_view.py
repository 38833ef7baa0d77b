"""The printable 审批单 of a finished payment: the request, every step, the control results, the attachments'
SHA-256; an A4 print stylesheet; seen by exactly who may see the request."""
import hashlib
import hmac
import io
import json

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.admin.seed import seed_reference
from app.models import ControlResult, Payment, PaymentStatus
from tests.integration.test_budget_api import BudgetBook
from tests.web.conftest import main_text

# Who takes each step of bpmn/payment.bpmn for a 3,000 元 payment of 农业农村办 (tier T1).
HOLDERS = {"unit_head_review": "nyb_head", "finance_review": "cz_reviewer", "deputy_approve": "deputy",
           "finance_deputy_approve": "finance_deputy", "township_head_approve": "zhenzhang",
           "party_secretary_approve": "shuji", "collective_decision": "dangweihui", "treasury_submit": "guoku"}
STEP_DATA = {"finance_review": {"documents_complete": True}}
INVOICE = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
BANK_SECRET = "test-bank-secret"


def upload(api, task_id: int, data: bytes, filename: str):
    boundary, body = encode_multipart(MultiDict([("file", FileStorage(io.BytesIO(data), filename))]))
    response = api.post(f"/api/v1/tasks/{task_id}/attachments", data=body,
                        content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.json
    return response.json


def bank_says_paid(client, bank_ref: str):
    body = json.dumps({"bank_ref": bank_ref, "status": "paid"})
    signature = hmac.new(BANK_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    response = client.post("/api/v1/bank/callbacks", data=body, content_type="application/json",
                           headers={"X-Bank-Signature": f"sha256={signature}"})
    assert response.status_code == 200, response.json


@pytest.fixture
def paid(demo, db_session, as_user, client):
    """A 3,000 元 payment of 农业农村办 through every step, an invoice attached by the unit head, paid by the bank."""
    seed_reference(demo)
    book = BudgetBook(db_session)
    indicator = book.indicator(book.project("SFZ-NYB", "P2026NYB01", "农技推广"), "2026NYB0001", "100000.00")
    book.commit()
    clerk = as_user("nyb_clerk")
    started = clerk.post("/api/v1/instances", json={"process_id": "payment", "data": {
        "title": "购买农技推广资料", "indicator_code": indicator.code, "amount": 3000, "payee_name": "镇供销社",
        "payee_account": "6222000011112222", "payee_bank": "农商银行示范镇支行", "invoice_count": 1}})
    assert started.status_code == 201, started.json
    instance_id = started.json["id"]
    while current := clerk.get(f"/api/v1/instances/{instance_id}").json["current_tasks"]:
        [task] = current
        approver = as_user(HOLDERS[task["bpmn_id"]])
        if task["bpmn_id"] == "unit_head_review":
            upload(approver, task["id"], INVOICE, "发票.pdf")
        done = approver.post(f"/api/v1/tasks/{task['id']}/complete", json={
            "decision": "approve", "comment": f"{task['name']}：同意", "data": STEP_DATA.get(task["bpmn_id"], {})})
        assert done.status_code == 200, done.json
    db_session.expire_all()
    payment = db_session.scalar(select(Payment).where(Payment.instance_id == instance_id))
    assert payment.status == PaymentStatus.SUBMITTED
    bank_says_paid(client, payment.bank_ref)
    return instance_id


def test_the_print_view_of_a_paid_payment_shows_every_step_the_controls_and_the_hashes(paid, browser, db_read):
    clerk = browser("nyb_clerk")
    request_page = clerk.get(f"/instances/{paid}")
    assert f'href="/instances/{paid}/print"' in request_page.text and "打印审批单" in request_page.text

    page = clerk.get(f"/instances/{paid}/print")
    assert page.status_code == 200
    text = main_text(page.text)
    assert "资金支付审批单" in text and "购买农技推广资料" in text and "3,000.00 元" in text
    assert "收款人" in text and "镇供销社" in text and "农业农村办" in text
    [payment] = db_read(select(Payment).where(Payment.instance_id == paid))
    assert "状态 已支付" in text  # the status in words, the same as the request page
    money = text[text.index("支付状态"):text.index("审批记录")]
    assert "已支付" in money and f"银行流水号 {payment.bank_ref}" in money and "会计凭证" in money
    decided = text[text.index("审批记录"):text.index("控制规则检查结果")]
    for step, person in [("单位负责人审核", "周主任"), ("财政所合规审核", "蒋审核"), ("国库支付提交", "何出纳")]:
        assert step in decided and person in decided and f"{step}：同意" in decided
    assert decided.count("同意") >= 3 and "提交" in decided
    assert "票据齐全、合规" in decided  # what a step filled in is on the sheet

    rules = db_read(select(ControlResult).where(ControlResult.instance_id == paid))
    assert rules
    checks = text[text.index("控制规则检查结果"):text.index("附件")]
    for rule in {r.rule for r in rules}:
        assert rule in checks
    assert "通过" in checks and "C03 " in checks and "检查时间" in checks

    files = text[text.index("附件"):]
    assert "发票.pdf" in files and hashlib.sha256(INVOICE).hexdigest() in files
    assert "打印人 李经办" in text
    assert "{\"" not in text


def test_the_sheet_prints_on_a4_from_a_static_stylesheet_without_inline_styles(paid, browser):
    page = browser("nyb_clerk").get(f"/instances/{paid}/print")
    assert 'href="/static/print.css"' in page.text
    assert "style=" not in page.text and "<style" not in page.text and "onclick" not in page.text
    served = browser("nyb_clerk").get("/static/print.css")
    css = served.get_data(as_text=True)
    served.close()  # a static file is streamed: close it, or the test leaks the open file
    assert "@page" in css and "size: A4" in css and "@media print" in css


def test_an_outsider_gets_404_and_an_overseer_sees_the_sheet(paid, browser):
    assert browser("xx_clerk").get(f"/instances/{paid}/print").status_code == 404  # 中心小学's clerk
    assert browser("xx_head").get(f"/instances/{paid}/print").status_code == 404
    assert browser("nyb_clerk").get("/instances/999999/print").status_code == 404
    assert browser("guoku").get(f"/instances/{paid}/print").status_code == 200  # took a step of it
    assert browser("nyb_head").get(f"/instances/{paid}/print").status_code == 200
