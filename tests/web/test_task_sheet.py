"""Item 3 of issue 11, "see what you approve, first": a unit head and the compliance reviewer read, on the
task page and before the decision form, the request as a sheet, the control rules' results, the indicator's
balances, the tier and why, and the steps still ahead; no JSON, no English key, no internal data."""
# ruff: noqa: F811 - the fixtures of tests/web/payments.py are imported, then requested by name
from sqlalchemy import select

from app.models import Project
from tests.web.conftest import main_text
from tests.web.payments import PROJECT, funded, march, office, pay  # noqa: F401 - fixtures

INTERNAL = ('{"', "payment_id", "indicator_id", "reservation", "transfer_id", "tier_rank", "three_public",
            "controls", "outcome")


def _page(browser, office, username: str, iid: int) -> str:
    task = office.task_for(username, iid)
    page = browser(username).get(f"/tasks/{task['id']}")
    assert page.status_code == 200
    return main_text(page.text)


def _before_the_form(text: str, *parts: str) -> None:
    form = text.index("审批意见")
    for part in parts:
        assert part in text, part
        assert text.index(part) < form, f"{part} comes after the decision form"


def test_the_unit_head_reads_the_sheet_the_controls_the_balance_the_tier_and_what_comes_next(
        browser, office, funded):
    iid = pay(office, funded, "800.00", settle_mode="transfer", invoice_count=0)
    text = _page(browser, office, "nyb_head", iid)
    for internal in INTERNAL:
        assert internal not in text, internal
    _before_the_form(
        text,
        "支付事由 灌溉渠道维修材料款", "支付金额（元） 800.00 元", f"{funded}（{PROJECT}）", "结算方式 转账",
        "控制规则检查", "C03 支付不得超过可用指标", "C17 不相容岗位分离",
        "预算指标", "额度 20,000.00 元", "已用 0.00 元", "在途 800.00 元", "可用 19,200.00 元",
        "审批档次", "预计 T0", "低于 T1 档标准 1,000.00 元",
        "后续环节", "财政所合规审核", "分管领导审批", "国库支付提交")
    assert "镇长审批 （镇长） 视条件：T1 及以上或三公经费" in text
    # No invoice yet: C19 warns, said in words before the passes (folded under 通过 N 项).
    assert "控制规则检查通过（1 项提醒）" in text and "提醒 C19 资金拨付凭据" in text
    assert text.index("C19 资金拨付凭据") < text.index("通过 14 项") < text.index("通过 C01 无预算不支出")


def test_the_compliance_reviewer_sees_every_rule_with_its_evidence(browser, office, funded):
    iid = pay(office, funded, "1200.00")
    office.act("nyb_head", iid)
    text = _page(browser, office, "cz_reviewer", iid)
    for internal in INTERNAL:
        assert internal not in text, internal
    _before_the_form(text, "C01 无预算不支出", "C03 支付不得超过可用指标", "可用 18,800.00 元",
                     "在途 1,200.00 元", "预计 T1", "达到 T1 档标准 1,000.00 元", "镇长审批")
    # The evidence of C03 in yuan: what the indicator had for this payment (its own hold given back).
    c03 = text[text.index("C03 支付不得超过可用指标"):text.index("C04 不得超用款计划")]
    assert "支付金额 1,200.00 元 · 额度 20,000.00 元 · 已用 0.00 元 · 在途 0.00 元" in c03
    assert "可用 20,000.00 元" in c03


def test_the_deputy_sees_the_tier_payment_route_decided(browser, office, funded):
    iid = pay(office, funded, "1200.00")
    office.act("nyb_head", iid)
    office.act("cz_reviewer", iid, data={"documents_complete": True})
    text = _page(browser, office, "deputy", iid)
    assert '{"' not in text
    _before_the_form(text, "审批档次 档次 T1", "达到 T1 档标准 1,000.00 元", "控制规则检查")
    assert "预计" not in text
    assert "镇长审批" in text[text.index("后续环节"):]


def test_the_lines_of_a_declaration_read_as_rows_with_their_codes_named(browser, office, funded):
    from tests.integration.office import line

    project = office.session.scalar(select(Project.code).where(Project.name == PROJECT))
    iid = office.start("nyb_clerk", "budget_declaration", {"title": "2026年度追加申报", "fiscal_year": 2026,
                                                           "lines": [line(project, "3000.00"),
                                                                     line(project, "1500.00", econ="30218")]})["id"]
    text = _page(browser, office, "nyb_head", iid)
    assert '{"' not in text and "project_code" not in text and "econ_dept_code" not in text
    first = text[text.index("预算明细 第 1 行"):text.index("预算明细 第 2 行")]
    assert f"项目编码：{project}（{PROJECT}）" in first and "金额（元）：3,000.00 元" in first
    assert "部门预算经济分类：30213（" in first and "支出功能分类：2130199（" in first
    assert "预算明细 第 2 行 项目编码" in text and "30218（" in text
