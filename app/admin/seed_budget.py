"""The demo township's budget year, made the way the office would make it: through the real processes.

Projects go through 项目入库, this year's budget through 预算申报 and the review chain up to 镇人大, plans
through 用款计划, payments through 资金支付 to the bank; then more requests are left at every step so each
demo user finds work waiting, some of it for days (so the supervisors' board shows what is overdue).
Run after `seed_people` and `seed_reference`, on an empty township.
"""
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.admin.seed import _act, _user
from app.approvals.deps import Deps
from app.approvals.instances import start_instance
from app.budget.common import CHINA
from app.budget.settlement import settle_payment
from app.models import BudgetLine, Indicator, Payment, PaymentStatus, Project

MEETING = {"meeting_date": "2026-01-08", "minutes_no": "示党委〔2026〕1号", "resolution": "同意"}
HEAD_MEETING = {"meeting_date": "2026-01-06", "minutes_no": "示镇长办公会〔2026〕1号"}
COMMITTEE_STUDY = {"meeting_date": "2026-01-08", "minutes_no": "示党委〔2026〕2号"}  # budget_review's 党委会研究
CONGRESS = {"session_name": "示范镇第十九届人民代表大会第五次会议", "resolution_no": "示人大〔2026〕1号"}

# unit clerk, unit head, project name, category, amount, budget lines (econ code, amount, flags)
UNITS = [
    ("nyb_clerk", "nyb_head", "高标准农田灌溉配套", "3", "300000.00",
     [("31005", "180000.00", {}), ("30213", "60000.00", {}), ("30218", "40000.00", {"plan_controlled": True})]),
    ("swb_clerk", "swb_head", "困难群众走访慰问", "3", "80000.00",
     [("30305", "50000.00", {"earmarked": True}), ("30211", "20000.00", {})]),
    ("zfb_clerk", "zfb_head", "镇机关日常运转", "21", "120000.00",
     [("30201", "40000.00", {}), ("30206", "30000.00", {}), ("30217", "10000.00", {}), ("30213", "30000.00", {})]),
    ("xx_clerk", "xx_head", "中心小学校舍维修", "3", "90000.00",
     [("30213", "70000.00", {}), ("31002", "20000.00", {})]),
    ("wsy_clerk", "wsy_head", "卫生院公共卫生服务", "22", "60000.00",
     [("30218", "45000.00", {}), ("30207", "15000.00", {})]),
]
FUNCTION = {"nyb_clerk": "2130199", "swb_clerk": "2080505", "zfb_clerk": "2010301", "xx_clerk": "2010350",
            "wsy_clerk": "2100717"}
PAYEE = {"payee_name": "示范镇兴农建材商行", "payee_account": "6222020200012345678",
         "payee_bank": "中国农业银行示范镇支行", "invoice_count": 2}


def _project(deps: Deps, clerk: str, head: str, name: str, category: str, amount: str, year: int,
             until: int) -> str:
    data = {"title": f"申报项目：{name}", "name": name, "category_code": category, "start_year": year,
            "end_year": until, "amount": Decimal(amount), "description": f"{name}，按年度计划实施。",
            "goals": [{"kind": "产出指标", "name": "完成率", "target": "100%"},
                      {"kind": "满意度指标", "name": "群众满意度", "target": "≥90%"}]}
    instance = start_instance(deps, _user(deps, clerk), "project_entry", data)
    _act(deps, head, instance.id, "approve", "同意申报")
    _act(deps, "cz_reviewer", instance.id, "approve", "符合支出标准", {"standards_ok": True})
    if Decimal(amount) >= 50000:
        _act(deps, "dangweihui", instance.id, "approve", "党委会研究同意", MEETING)
    return deps.session.scalar(select(Project.code).where(Project.instance_id == instance.id))


def _declare(deps: Deps, clerk: str, head: str, project: str, lines, year: int, *, through: int = 99) -> int:
    data = {"title": f"{year}年度预算申报", "fiscal_year": year, "lines": [
        {"project_code": project, "func_code": FUNCTION[clerk], "econ_dept_code": econ, "fund_nature_code": "111",
         "amount": Decimal(amount), **flags} for econ, amount, flags in lines]}
    instance = start_instance(deps, _user(deps, clerk), "budget_declaration", data)
    steps = [(head, {}), ("cz_reviewer", {}), ("cz_head", {"consolidation_note": "已汇总"}),
             ("zhenzhang", HEAD_MEETING), ("dangweihui", COMMITTEE_STUDY), ("renda", CONGRESS),
             ("cz_reviewer2", {"doc_no": f"示财预〔{year}〕1号"})]
    for who, extra in steps[:through]:
        _act(deps, who, instance.id, "approve", "同意", extra)
    return instance.id


def _indicators(deps: Deps, declaration: int) -> list[str]:
    return list(deps.session.scalars(select(Indicator.code).join(BudgetLine, BudgetLine.indicator_id == Indicator.id)
                                     .where(BudgetLine.instance_id == declaration).order_by(BudgetLine.id)))


def _pay(deps: Deps, clerk: str, head: str, indicator: str, amount: str, purpose: str, *, through: list,
         bank: str | None = None, **extra) -> int:
    data = {"title": purpose, "purpose": purpose, "indicator_code": indicator, "amount": Decimal(amount),
            **PAYEE, **extra}
    instance = start_instance(deps, _user(deps, clerk), "payment", data)
    for who, step_data in [(head, {}), ("cz_reviewer", {"documents_complete": True}), *through]:
        _act(deps, who, instance.id, "approve", "同意", step_data)
    if bank is not None:
        payment = deps.session.scalar(select(Payment).where(Payment.instance_id == instance.id))
        if payment.status == PaymentStatus.SUBMITTED:  # the simulated bank may have answered already
            settle_payment(deps, payment.bank_ref, bank, "收款账户已销户" if bank == "returned" else None)
    return instance.id


def _days_ago(deps: Deps, days: int) -> Deps:
    """The same dependencies with the clock `days` back, so work left waiting has waited (and some of it is
    overdue on the supervisors' board); never back into last year, whose budget the demo does not have."""
    earlier = deps.now - timedelta(days=days)
    same_year = earlier.astimezone(CHINA).year == deps.now.astimezone(CHINA).year
    return replace(deps, now=earlier) if same_year else deps


def seed_office(deps: Deps) -> int:
    """The budget year of 示范镇; returns how many requests it made."""
    year = deps.now.astimezone(CHINA).year
    month = f"{year}-{deps.now.astimezone(CHINA).month:02d}"
    count = 0
    budget: dict[str, list[str]] = {}
    for clerk, head, name, category, amount, lines in UNITS:
        project = _project(deps, clerk, head, name, category, amount, year, year + 1)
        budget[clerk] = _indicators(deps, _declare(deps, clerk, head, project, lines, year))
        count += 2
    # Next year's budget on its way through the review chain; a project waiting at the finance office.
    nyb_next = _project(deps, "nyb_clerk", "nyb_head", "农村人居环境整治", "3", "45000.00", year + 1, year + 1)
    _declare(deps, "nyb_clerk", "nyb_head", nyb_next, [("30226", "45000.00", {})], year + 1, through=4)
    week_ago = _days_ago(deps, 7)
    pending = start_instance(week_ago, _user(deps, "swb_clerk"), "project_entry", {
        "title": "申报项目：养老服务站改造", "name": "养老服务站改造", "category_code": "3", "start_year": year,
        "end_year": year, "amount": Decimal("35000.00"), "goals": [{"name": "改造床位", "target": "20张"}]})
    _act(week_ago, "swb_head", pending.id, "approve", "同意申报")
    count += 3

    # 用款计划: 农业农村办's material money is under plan control.
    nyb = budget["nyb_clerk"]
    plan = start_instance(deps, _user(deps, "nyb_clerk"), "fund_plan", {
        "title": f"{month} 用款计划", "month": month,
        "lines": [{"indicator_code": nyb[2], "amount": Decimal("20000.00")},
                  {"indicator_code": nyb[1], "amount": Decimal("30000.00")}]})
    _act(deps, "nyb_head", plan.id, "approve", "同意")
    _act(deps, "cz_reviewer", plan.id, "approve", "核定", {"approved_amounts": {nyb[2]: Decimal("15000.00")}})
    start_instance(_days_ago(deps, 4), _user(deps, "wsy_clerk"), "fund_plan", {  # waits for the unit head
        "title": f"{month} 用款计划", "month": month,
        "lines": [{"indicator_code": budget["wsy_clerk"][0], "amount": Decimal("8000.00")}]})
    count += 2

    # 资金支付: paid, returned by the bank, and waiting at every step of the chain.
    leaders_t0 = [("deputy", {}), ("guoku", {})]
    _pay(deps, "nyb_clerk", "nyb_head", nyb[1], "860.00", "灌溉泵站维修零件", through=leaders_t0, bank="paid")
    _pay(deps, "zfb_clerk", "zfb_head", budget["zfb_clerk"][0], "640.00", "办公用品", through=leaders_t0,
         bank="paid", settle_mode="card")
    _pay(deps, "xx_clerk", "xx_head", budget["xx_clerk"][0], "3600.00", "教室门窗维修",
         through=[("deputy", {}), ("zhenzhang", {}), ("guoku", {})], bank="paid")
    _pay(deps, "swb_clerk", "swb_head", budget["swb_clerk"][1], "720.00", "走访差旅费", through=leaders_t0,
         bank="returned")
    _pay(deps, "nyb_clerk", "nyb_head", nyb[0], "60000.00", "灌溉渠道工程进度款",
         through=[("deputy", {}), ("finance_deputy", {}), ("zhenzhang", {}), ("shuji", {})],
         contract_no="示农合〔2026〕7号", contract_amount=Decimal("150000.00"))  # waits for the 党委会
    _pay(deps, "wsy_clerk", "wsy_head", budget["wsy_clerk"][0], "2400.00", "公共卫生宣传材料",
         through=[("deputy", {})])  # waits for the 镇长
    _pay(deps, "zfb_clerk", "zfb_head", budget["zfb_clerk"][2], "480.00", "接待上级检查工作餐",
         through=[("deputy", {}), ("finance_deputy", {}), ("zhenzhang", {})])  # 三公: waits at 国库
    ten_days_ago = _days_ago(deps, 10)
    waiting = start_instance(ten_days_ago, _user(deps, "nyb_clerk"), "payment", {
        "title": "农田排水沟清淤", "purpose": "农田排水沟清淤", "indicator_code": nyb[1],
        "amount": Decimal("1800.00"), **PAYEE})
    _act(ten_days_ago, "nyb_head", waiting.id, "approve", "同意")  # waits at the 财政所 compliance review
    start_instance(_days_ago(deps, 2), _user(deps, "xx_clerk"), "payment", {  # waits for the unit head
        "title": "实验器材", "purpose": "实验器材", "indicator_code": budget["xx_clerk"][1],
        "amount": Decimal("5200.00"), **PAYEE})
    count += 9

    # 调剂 waiting for the township head; a 调整 (追加) waiting for the congress.
    realloc = start_instance(deps, _user(deps, "zfb_clerk"), "budget_adjustment", {
        "title": "电费调剂至维修费", "kind": "reallocation", "reason": "电价下调，维修任务增加",
        "lines": [{"from_indicator": budget["zfb_clerk"][1], "to_indicator": budget["zfb_clerk"][3],
                   "amount": Decimal("5000.00")}]})
    for who in ("zfb_head", "cz_reviewer"):
        _act(deps, who, realloc.id, "approve", "同意")
    addition = start_instance(deps, _user(deps, "nyb_clerk"), "budget_adjustment", {
        "title": "追加灌溉配套资金", "kind": "adjustment", "reason": "汛后水毁修复",
        "lines": [{"to_indicator": nyb[1], "direction": "increase", "amount": Decimal("20000.00")}]})
    for who, extra in [("nyb_head", {}), ("cz_reviewer", {}), ("cz_head", {}), ("zhenzhang", HEAD_MEETING),
                       ("dangweihui", COMMITTEE_STUDY)]:
        _act(deps, who, addition.id, "approve", "同意", extra)
    count += 2
    return count

