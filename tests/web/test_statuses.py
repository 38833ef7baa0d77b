"""Item 4 (and the task-page parts of item 8) of issue 11: statuses in words on the request page and in the
lists, the payment's bank reference, batch and vouchers, the treasury's 提交银行, a timeline whose system
steps say what they did, and the applicant's own step without 放弃认领 / 转办 or two fields named 说明."""
# ruff: noqa: F811 - the fixtures of tests/web/payments.py are imported, then requested by name
import re

from sqlalchemy import select

from app.models import Payment
from tests.web.conftest import main_text
from tests.web.helpers import decide, operate
from tests.web.payments import funded, march, office, pay, to_treasury  # noqa: F401 - fixtures


def _status_in_started(clerk, iid: int) -> str:
    """The status word of the request's row in the clerk's 我发起的."""
    page = clerk.get("/?view=started")
    row = re.search(rf'<li class="row[^"]*">\s*<a class="row-link" href="/instances/{iid}">(.*?)</li>', page.text, re.S)
    assert row, f"request {iid} not in 我发起的"
    return main_text(f"<main>{row.group(1)}</main>")


def test_a_paid_payment_reads_paid_with_its_bank_reference_batch_and_vouchers(browser, office, funded, db_read):
    iid = pay(office, funded, "800.00")
    clerk = browser("nyb_clerk")
    assert "审批中" in _status_in_started(clerk, iid)
    to_treasury(office, iid)
    guoku = browser("guoku")
    task = office.task_for("guoku", iid)["id"]
    form = guoku.get(f"/tasks/{task}").text
    assert re.search(r'value="approve"[^>]*> 提交银行</label>', form) and "不予支付" in form
    done = decide(guoku, task, "approve", comment="")
    assert done.status_code == 302
    assert "提交银行" in main_text(guoku.get(done.headers["Location"]).text)  # the flash says what was done
    assert "支付中" in _status_in_started(clerk, iid)

    [payment] = db_read(select(Payment).where(Payment.instance_id == iid))
    office.bank_says(payment.bank_ref, "paid")
    assert "已支付" in _status_in_started(clerk, iid)
    text = main_text(clerk.get(f"/instances/{iid}").text)
    assert "状态 已支付" in text and "已通过" not in text
    assert f"银行流水号 {payment.bank_ref}" in text and "支付批次 PL" in text and "会计凭证 " in text
    # The timeline says what each system step did, and has no empty 系统处理 rows.
    assert "系统处理" not in text and '{"' not in text
    assert "控制规则检查通过（1 项提醒）" in text or "控制规则检查通过" in text
    assert "占用指标额度 800.00 元（在途）" in text
    assert f"提交银行，流水号 {payment.bank_ref}，批次 PL" in text
    assert "指标记账：已支付 800.00 元" in text and "生成会计凭证" in text
    assert f"银行回单（流水号 {payment.bank_ref}）：已支付" in text
    assert "提交银行 国库支付提交" in text  # the treasury's decision in the timeline, in its form's words


def test_a_bank_return_reads_bank_returned(browser, office, funded, db_read):
    iid = pay(office, funded, "800.00")
    to_treasury(office, iid)
    office.act("guoku", iid)
    [payment] = db_read(select(Payment).where(Payment.instance_id == iid))
    office.bank_says(payment.bank_ref, "returned", "收款账户已销户")
    clerk = browser("nyb_clerk")
    assert "已退票" in _status_in_started(clerk, iid)
    text = main_text(clerk.get(f"/instances/{iid}").text)
    assert "状态 已退票" in text and "退票原因 收款账户已销户" in text and "已驳回" not in text


def test_a_returned_request_reads_returned_and_its_step_is_the_applicants_alone(browser, office, funded):
    iid = pay(office, funded, "800.00")
    head = browser("nyb_head")
    task = office.task_for("nyb_head", iid)["id"]
    assert operate(head, task, "return", {"target": "apply", "comment": "请补充合同"}).status_code == 302
    clerk = browser("nyb_clerk")
    assert "已退回" in _status_in_started(clerk, iid)
    mine = office.task_for("nyb_clerk", iid)["id"]
    page = clerk.get(f"/tasks/{mine}").text
    text = main_text(page)
    assert "放弃认领" not in text and 'id="op-transfer"' not in page
    labels = [main_text(f"<main>{label}</main>").strip()
              for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)]
    said = [label for label in labels if label.startswith("说明")]
    assert len(said) <= 1, said  # the form's 说明 and the comment box are no longer both 说明


def test_a_withdrawn_request_reads_withdrawn(browser, office, funded):
    iid = pay(office, funded, "800.00")
    clerk = browser("nyb_clerk")
    assert clerk.submit(f"/instances/{iid}", f"/instances/{iid}/withdraw", {"comment": "不需要了"}).status_code == 302
    assert "已撤回" in _status_in_started(clerk, iid)


def test_a_task_reached_from_done_says_done_in_its_breadcrumb(browser, office, funded):
    iid = pay(office, funded, "800.00")
    task = office.task_for("nyb_head", iid)["id"]
    office.act("nyb_head", iid)
    head = browser("nyb_head")
    crumbs = re.search(r'<p class="crumbs">(.*?)</p>', head.get(f"/tasks/{task}").text, re.S).group(1)
    assert "已办" in crumbs and "待办" not in crumbs and "view=done" in crumbs
    crumbs = re.search(r'<p class="crumbs">(.*?)</p>', head.get(f"/tasks/{task}?from=todo").text, re.S).group(1)
    assert "待办" in crumbs
