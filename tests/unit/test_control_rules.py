"""The control rules C01–C19: each blocks (or warns) with its Chinese message and evidence, passes when it
should, and follows the township's level for it ("off" skips, "warn" downgrades) unless it is locked."""
import ast
import json
from copy import deepcopy
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from app.controls import rules
from app.controls.rules import (
    AdjustmentFacts,
    AllocationFacts,
    CarryOverFacts,
    EarmarkedScope,
    IndicatorFacts,
    LineFacts,
    PaymentFacts,
    ReallocationFacts,
    Verdict,
    check_adjustment,
    check_allocation,
    check_carry_over,
    check_line,
    check_payment,
    check_reallocation,
    overall,
)
from app.controls.settings import DEFAULTS
from app.models import ControlOutcome

BLOCK, WARN, PASS = ControlOutcome.BLOCK, ControlOutcome.WARN, ControlOutcome.PASS
PAYMENT_RULES = {"C01", "C03", "C04", "C06", "C07", "C09", "C10", "C11", "C12", "C14", "C15", "C16", "C17",
                 "C18", "C19"}


def settings(**levels) -> dict:
    """The default settings with some rule levels changed: settings(C11="block")."""
    result = deepcopy(DEFAULTS)
    result["rules"].update(levels)
    return result


def with_setting(path: str, value, base: dict | None = None) -> dict:
    result = deepcopy(base or DEFAULTS)
    *sections, key = path.split(".")
    node = result
    for section in sections:
        node = node[section]
    node[key] = value
    return result


def payment(**changes) -> PaymentFacts:
    """A 1,200 元 office-supplies payment by transfer that every rule lets through."""
    base = PaymentFacts(
        amount=Decimal("1200.00"), purpose="购买办公用品", payee_name="镇供销社", payee_account="6222020200001234",
        func_code="2010301", econ_dept_code="30201", econ_gov_code="50201", expected_econ_gov_code="50201",
        fund_nature_code="111", applicant_id=1, approver_ids=frozenset({2, 3}), invoice_count=1,
    )
    return replace(base, **changes)


def indicator(**changes) -> IndicatorFacts:
    base = IndicatorFacts(
        code="ZB-2026-001", available=Decimal("10000.00"), frozen=Decimal(0), project_id=7, func_code="2010301",
        econ_dept_code="30201", econ_gov_code="50201", fund_nature_code="111",
    )
    return replace(base, **changes)


def verdict(verdicts: list[Verdict], rule: str) -> Verdict | None:
    found = [v for v in verdicts if v.rule == rule]
    assert len(found) <= 1
    return found[0] if found else None


def pay(p=None, ind=None, s=None, rule: str | None = None):
    """check_payment with defaults; with `rule`, that rule's verdict (None when it did not run)."""
    verdicts = check_payment(p or payment(), ind if ind is not None else indicator(), s or settings())
    return verdict(verdicts, rule) if rule else verdicts


# ------------------------------------------------------------------------------------------ overall


def test_a_clean_payment_passes_every_payment_rule_with_a_source_for_each():
    verdicts = pay()
    assert {v.rule for v in verdicts} == PAYMENT_RULES
    assert [v.outcome for v in verdicts] == [PASS] * len(PAYMENT_RULES)
    assert [v.rule for v in verdicts] == sorted(PAYMENT_RULES)
    assert all(v.source == rules.SOURCES[v.rule] and v.source for v in verdicts)
    assert overall(verdicts) == "pass"


def test_every_rule_has_a_default_level_and_a_source_that_fits_the_control_result_column():
    assert set(rules.RULE_LEVELS) == set(rules.SOURCES) == {f"C{n:02d}" for n in range(1, 20)}
    assert all(0 < len(source) <= 200 for source in rules.SOURCES.values())
    assert {r for r, level in rules.RULE_LEVELS.items() if level == "warn"} == {"C11", "C14", "C19"}
    assert rules.LOCKED_RULES == {"C01", "C03", "C06", "C17"}


def test_overall_is_block_over_warn_over_pass():
    ok = Verdict("C19", PASS, "ok", {}, "s")
    warned = Verdict("C11", WARN, "w", {}, "s")
    blocked = Verdict("C03", BLOCK, "b", {}, "s")
    assert overall([ok]) == "pass"
    assert overall([]) == "pass"
    assert overall([ok, warned]) == "warn"
    assert overall([warned, blocked, ok]) == "block"


def test_a_verdict_stores_as_plain_json_with_amounts_as_strings():
    blocked = pay(payment(amount=Decimal("12000")), rule="C03")
    stored = json.loads(json.dumps(blocked.as_dict(), ensure_ascii=False))
    assert stored["outcome"] == "block"
    assert stored["evidence"]["amount"] == "12000.00"
    assert stored["source"].startswith("预算管理一体化")


def test_facts_refuse_float_money():
    with pytest.raises(TypeError, match="不能是 float"):
        payment(amount=1200.5)
    with pytest.raises(TypeError):
        IndicatorFacts(code="X", available=0.1)


def test_the_rules_and_settings_import_neither_flask_nor_a_database_session():
    controls = Path(rules.__file__).parent
    for name in ("rules.py", "settings.py"):
        tree = ast.parse((controls / name).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m and m.split(".")[0] in {"flask", "flask_sqlalchemy", "werkzeug"}}
        assert "app.extensions" not in imported
    rules_imports = {n.module for n in ast.walk(ast.parse(Path(rules.__file__).read_text(encoding="utf-8")))
                     if isinstance(n, ast.ImportFrom)}
    assert not {m for m in rules_imports if m and m.startswith(("sqlalchemy", "app.controls.settings"))}


# --------------------------------------------------------------------------------------------- C01


def test_c01_blocks_a_payment_that_names_no_indicator_and_skips_the_indicator_rules():
    verdicts = check_payment(payment(), None, settings())
    c01 = verdict(verdicts, "C01")
    assert c01.outcome == BLOCK
    assert c01.message == "支付未关联预算指标，无预算不得支出"
    assert c01.evidence == {"indicator": None, "exists": False}
    assert "预算法》第十三条" in c01.source
    assert not {"C03", "C04", "C06", "C07", "C09", "C16"} & {v.rule for v in verdicts}
    assert overall(verdicts) == "block"


def test_c01_blocks_an_unknown_indicator_by_its_code():
    c01 = pay(ind=IndicatorFacts.missing("ZB-404"), rule="C01")
    assert c01.outcome == BLOCK and c01.message == "预算指标 ZB-404 不存在，无预算不得支出"


def test_c01_blocks_an_indicator_that_is_not_executable_or_belongs_to_another_unit():
    c01 = pay(ind=indicator(executable=False, org_matches=False), rule="C01")
    assert c01.outcome == BLOCK
    assert "预算指标 ZB-2026-001 不是可执行指标" in c01.message
    assert "预算指标 ZB-2026-001 不属于付款单位" in c01.message
    assert c01.evidence == {"indicator": "ZB-2026-001", "exists": True, "executable": False, "org_matches": False}


def test_c01_passes_an_executable_indicator_of_the_paying_unit_and_cannot_be_switched_off():
    assert pay(rule="C01").outcome == PASS
    c01 = pay(ind=indicator(executable=False), s=settings(C01="off"), rule="C01")
    assert c01.outcome == BLOCK


# --------------------------------------------------------------------------------------------- C03


def test_c03_blocks_a_payment_above_the_available_amount_with_the_shortfall():
    c03 = pay(payment(amount=Decimal("10000.01")), indicator(total=Decimal("50000"), used=Decimal("40000")),
              rule="C03")
    assert c03.outcome == BLOCK
    assert c03.message == "支付金额 10,000.01 元超过指标可用额度 10,000.00 元（差 0.01 元）"
    assert c03.evidence == {"indicator": "ZB-2026-001", "amount": "10000.01", "available": "10000.00",
                            "total": "50000.00", "used": "40000.00", "frozen": "0.00"}


def test_c03_passes_a_payment_of_exactly_the_available_amount():
    c03 = pay(payment(amount=Decimal("10000.00")), rule="C03")
    assert c03.outcome == PASS and "未超过指标可用额度" in c03.message


def test_c03_cannot_be_downgraded_by_settings():
    c03 = pay(payment(amount=Decimal("20000")), s=settings(C03="warn"), rule="C03")
    assert c03.outcome == BLOCK
    assert pay(payment(amount=Decimal("20000")), s=settings(C03="off"), rule="C03").outcome == BLOCK


# --------------------------------------------------------------------------------------------- C04


def plan(**changes) -> IndicatorFacts:
    return indicator(plan_controlled=True, plan_available=Decimal("1000.00"), plan_month="2026-03", **changes)


def test_c04_blocks_a_payment_above_this_months_plan():
    c04 = pay(ind=plan(), rule="C04")
    assert c04.outcome == BLOCK
    assert c04.message == "支付金额 1,200.00 元超过本月用款计划可用额度 1,000.00 元"
    assert c04.evidence == {"indicator": "ZB-2026-001", "plan_controlled": True, "amount": "1200.00",
                            "plan_month": "2026-03", "plan_available": "1000.00"}


def test_c04_blocks_a_plan_controlled_indicator_without_an_approved_plan():
    c04 = pay(ind=indicator(plan_controlled=True), rule="C04")
    assert c04.outcome == BLOCK and c04.message == "该指标按用款计划控制，本月没有已批复的用款计划"


def test_c04_passes_within_the_plan_and_for_an_indicator_not_controlled_by_plan():
    assert pay(payment(amount=Decimal("1000")), plan(), rule="C04").outcome == PASS
    c04 = pay(rule="C04")
    assert c04.outcome == PASS and c04.message == "该指标不按用款计划控制"


def test_c04_follows_the_townships_level():
    assert pay(ind=plan(), s=settings(C04="warn"), rule="C04").outcome == WARN
    assert pay(ind=plan(), s=settings(C04="off"), rule="C04") is None


# --------------------------------------------------------------------------------------------- C06


def test_c06_blocks_a_payment_that_would_need_frozen_money_and_shows_the_frozen_amount():
    frozen = indicator(available=Decimal("1000.00"), frozen=Decimal("500.00"))
    c06 = pay(ind=frozen, rule="C06")
    assert c06.outcome == BLOCK
    assert c06.message.startswith("指标冻结 500.00 元，冻结部分不可支付：可用仅 1,000.00 元")
    assert c06.evidence == {"indicator": "ZB-2026-001", "amount": "1200.00", "available": "1000.00",
                            "frozen": "500.00"}
    assert pay(ind=frozen, rule="C03").outcome == BLOCK


def test_c06_passes_when_the_payment_fits_without_the_frozen_money_or_nothing_is_frozen():
    c06 = pay(ind=indicator(frozen=Decimal("500")), rule="C06")
    assert c06.outcome == PASS and c06.evidence["frozen"] == "500.00" and "已从可用额度中扣除" in c06.message
    assert pay(rule="C06").message == "指标没有冻结额度"


def test_c06_is_locked_at_block():
    frozen = indicator(available=Decimal("1000.00"), frozen=Decimal("500.00"))
    assert pay(ind=frozen, s=settings(C06="off"), rule="C06").outcome == BLOCK


# --------------------------------------------------------------------------------------------- C07


def test_c07_blocks_a_payment_whose_codes_differ_from_the_indicators():
    c07 = pay(payment(econ_dept_code="30202", project_id=8), rule="C07")
    assert c07.outcome == BLOCK
    assert "部门经济分类 30202 ≠ 指标 30201" in c07.message and "项目 8 ≠ 指标 7" in c07.message
    assert c07.message.endswith("跨科目、跨项目使用须先办理调剂")
    assert c07.evidence["mismatched"] == ["econ_dept_code", "project_id"]
    assert c07.evidence["payment"]["econ_dept_code"] == "30202"
    assert c07.evidence["indicator_codes"]["econ_dept_code"] == "30201"


def test_c07_passes_matching_codes_and_follows_the_level():
    assert pay(payment(project_id=7), rule="C07").outcome == PASS
    assert pay(payment(fund_nature_code="112"), s=settings(C07="warn"), rule="C07").outcome == WARN
    assert pay(payment(fund_nature_code="112"), s=settings(C07="off"), rule="C07") is None


# --------------------------------------------------------------------------------------------- C09


def earmarked(**changes) -> IndicatorFacts:
    return indicator(earmarked=True, earmarked_scope=EarmarkedScope(project_id=7, econ_codes=("302",)), **changes)


def test_c09_blocks_earmarked_money_paid_to_the_units_own_account():
    c09 = pay(payment(to_own_account=True), earmarked(), rule="C09")
    assert c09.outcome == BLOCK
    assert c09.message == "专项资金不得转入本单位实有资金账户或工会账户"
    assert c09.evidence["to_own_account"] is True and c09.evidence["allowed_econ_codes"] == ["302"]


def test_c09_blocks_earmarked_money_spent_outside_its_codes_or_project():
    c09 = pay(payment(econ_dept_code="31002", project_id=9), earmarked(), rule="C09")
    assert c09.outcome == BLOCK
    assert "经济分类 31002 不在专项资金用途范围内（允许：302）" in c09.message
    assert "专项资金只能用于项目 7，本笔为项目 9" in c09.message


def test_c09_passes_earmarked_money_within_its_scope_and_ordinary_money():
    assert pay(ind=earmarked(), rule="C09").message == "专项资金用于本项目规定用途"
    assert pay(rule="C09").message == "非专项资金"


def test_c09_follows_the_townships_level():
    assert pay(payment(to_own_account=True), earmarked(), settings(C09="warn"), rule="C09").outcome == WARN
    assert pay(payment(to_own_account=True), earmarked(), settings(C09="off"), rule="C09") is None


def test_c09_blocks_reallocating_earmarked_money_to_another_project():
    moved = ReallocationFacts(amount=Decimal("100"), source_available=Decimal("1000"), source_code="ZX-1",
                              target_code="ZB-2", source_earmarked=True, same_project=False)
    c09 = verdict(check_reallocation(moved, settings()), "C09")
    assert c09.outcome == BLOCK and c09.message == "专项资金专款专用，不得调剂用于其他项目"
    assert c09.evidence == {"source": "ZX-1", "target": "ZB-2", "source_earmarked": True, "same_project": False}
    assert verdict(check_reallocation(replace(moved, same_project=True), settings()), "C09").outcome == PASS


# --------------------------------------------------------------------------------------------- C10


def test_c10_blocks_a_payment_at_the_decentralised_procurement_limit_without_a_contract():
    c10 = pay(payment(amount=Decimal("1000000")), indicator(available=Decimal("2000000")), rule="C10")
    assert c10.outcome == BLOCK
    assert c10.message == "金额 1,000,000.00 元达到分散采购限额 1,000,000.00 元，须关联政府采购合同（合同编号）"
    assert c10.evidence["limit"] == "1000000.00" and c10.evidence["basis"] == "1000000.00"


def test_c10_counts_earlier_payments_for_the_same_purpose_and_uses_the_works_limit_for_works():
    split = payment(amount=Decimal("400000"), purpose_paid_before=Decimal("700000"))
    assert pay(split, rule="C10").outcome == BLOCK
    works = replace(split, procurement_kind="works")
    c10 = pay(works, rule="C10")
    assert c10.outcome == PASS and c10.evidence["limit"] == "1200000.00"


def test_c10_blocks_a_catalogue_item_without_a_contract_and_payments_beyond_the_contract():
    c10 = pay(payment(is_procurement_item=True), rule="C10")
    assert c10.outcome == BLOCK and c10.message.startswith("属集中采购目录，须关联政府采购合同")
    over = payment(contract_no="HT-9", contract_amount=Decimal("5000"), contract_paid_before=Decimal("4000"))
    c10 = pay(over, rule="C10")
    assert c10.outcome == BLOCK
    assert c10.message == "合同 HT-9 累计支付 5,200.00 元超过合同金额 5,000.00 元"
    assert c10.evidence["cumulative"] == "5200.00" and c10.evidence["contract_paid_before"] == "4000.00"


def test_c10_passes_small_purchases_and_payments_within_the_contract():
    assert pay(rule="C10").message == "不属集中采购目录，且未达分散采购限额 1,000,000.00 元"
    within = payment(is_procurement_item=True, contract_no="HT-9", contract_amount=Decimal("5000"),
                     contract_paid_before=Decimal("3800"))
    assert pay(within, rule="C10").outcome == PASS


def test_c10_follows_the_townships_level_and_limits():
    item = payment(is_procurement_item=True)
    assert pay(item, s=settings(C10="warn"), rule="C10").outcome == WARN
    assert pay(item, s=settings(C10="off"), rule="C10") is None
    lower = with_setting("procurement.goods_services_limit", "1000")
    assert pay(s=lower, rule="C10").outcome == BLOCK


# --------------------------------------------------------------------------------------------- C11


def test_c11_warns_about_a_catalogue_item_paid_in_cash_above_200_yuan():
    c11 = pay(payment(settle_mode="cash", amount=Decimal("500")), rule="C11")
    assert c11.outcome == WARN
    assert c11.message == ("经济分类 30201 属公务卡强制结算目录，现金支付 500.00 元超过小额例外 200.00 元，"
                           "应使用公务卡或转账结算")
    assert c11.evidence == {"econ_dept_code": "30201", "settle_mode": "cash", "in_catalogue": True,
                            "amount": "500.00", "small_cash_exempt": "200.00", "card_unavailable": False}


@pytest.mark.parametrize("changes,message", [
    ({"settle_mode": "transfer"}, "公务卡目录内支出，未使用现金结算"),
    ({"amount": Decimal("200.00")}, "现金支付 200.00 元未超过小额例外 200.00 元"),
    ({"card_unavailable": True}, "已声明县级以下地区或不具备刷卡条件，按例外允许现金结算"),
    ({"econ_dept_code": "30226"}, "经济分类 30226 不在公务卡强制结算目录内"),
])
def test_c11_passes_transfers_small_cash_the_card_exception_and_items_off_the_catalogue(changes, message):
    c11 = pay(payment(**{"settle_mode": "cash", "amount": Decimal("500"), **changes}), rule="C11")
    assert (c11.outcome, c11.message) == (PASS, message)


def test_c11_follows_the_townships_level():
    cash = payment(settle_mode="cash", amount=Decimal("500"))
    assert pay(cash, s=settings(C11="block"), rule="C11").outcome == BLOCK
    assert pay(cash, s=settings(C11="off"), rule="C11") is None


def test_c11_covers_the_water_and_electricity_item_as_two_codes():
    assert {"30205", "30206"} <= set(DEFAULTS["official_card"]["econ_codes"])
    assert len(DEFAULTS["official_card"]["econ_codes"]) == 17
    assert pay(payment(settle_mode="cash", amount=Decimal("500"), econ_dept_code="30206"), rule="C11").outcome == WARN


# --------------------------------------------------------------------------------------------- C12


def hospitality(**changes) -> PaymentFacts:
    return payment(econ_dept_code="30217", econ_gov_code="50206", expected_econ_gov_code="50206",
                   three_public_spent_this_year={"30217": Decimal("9000")}, **changes)


def test_c12_blocks_three_public_spending_beyond_its_annual_budget():
    s = with_setting("three_public.annual_budget", {"30217": "10000"})
    c12 = check_payment(hospitality(), indicator(econ_dept_code="30217", econ_gov_code="50206"), s)
    c12 = verdict(c12, "C12")
    assert c12.outcome == BLOCK
    assert c12.message == "“三公”经费 30217 本年已支 9,000.00 元，含本笔 10,200.00 元，超过年度预算 10,000.00 元"
    assert c12.evidence == {"econ_dept_code": "30217", "three_public": True, "code": "30217",
                            "spent_this_year": "9000.00", "amount": "1200.00", "after": "10200.00",
                            "annual_budget": "10000.00"}


def test_c12_passes_within_the_budget_without_a_budget_and_off_the_list():
    s = with_setting("three_public.annual_budget", {"30217": "10200"})
    assert pay(hospitality(), s=s, rule="C12").outcome == PASS
    unset = pay(hospitality(), rule="C12")
    assert unset.outcome == PASS and unset.evidence["annual_budget"] is None
    assert unset.message == "“三公”经费 30217 未设年度预算，本年已支 9,000.00 元，含本笔 10,200.00 元"
    assert pay(rule="C12").message == "经济分类 30201 不属“三公”经费"


def test_c12_follows_the_townships_level():
    s = with_setting("three_public.annual_budget", {"30217": "100"})
    assert pay(hospitality(), s=with_setting("rules.C12", "warn", s), rule="C12").outcome == WARN
    assert pay(hospitality(), s=with_setting("rules.C12", "off", s), rule="C12") is None


# --------------------------------------------------------------------------------------------- C14


def cash(**changes) -> PaymentFacts:
    return payment(settle_mode="cash", econ_dept_code="30226", econ_gov_code="50299",
                   expected_econ_gov_code="50299", **changes)


def test_c14_warns_about_cash_over_the_per_payment_month_and_year_limits():
    c14 = pay(cash(amount=Decimal("2500"), cash_this_month=Decimal("18000"), cash_this_year=Decimal("98000")),
              rule="C14")
    assert c14.outcome == WARN
    assert c14.message == ("单笔现金 2,500.00 元超过限额 2,000.00 元；本月现金累计 20,500.00 元超过限额 20,000.00 元；"
                           "本年现金累计 100,500.00 元超过限额 100,000.00 元")
    assert c14.evidence == {"settle_mode": "cash", "amount": "2500.00", "per_payment": "2000.00",
                            "month_total": "20500.00", "per_month": "20000.00", "year_total": "100500.00",
                            "per_year": "100000.00"}


def test_c14_passes_cash_within_the_limits_and_any_transfer():
    assert pay(cash(amount=Decimal("2000"), cash_this_month=Decimal("18000")), rule="C14").outcome == PASS
    assert pay(payment(amount=Decimal("9000")), rule="C14").message == "非现金结算"


def test_c14_follows_the_townships_level():
    big = cash(amount=Decimal("2500"))
    assert pay(big, s=settings(C14="block"), rule="C14").outcome == BLOCK
    assert pay(big, s=settings(C14="off"), rule="C14") is None


# --------------------------------------------------------------------------------------------- C15


def test_c15_blocks_a_government_code_that_does_not_match_the_mapping():
    c15 = pay(payment(econ_gov_code="50299"), rule="C15")
    assert c15.outcome == BLOCK
    assert c15.message == "政府经济分类 50299 与对照表不符：部门经济分类 30201 应对应 50201"
    assert c15.evidence == {"econ_dept_code": "30201", "econ_gov_code": "50299", "expected_econ_gov_code": "50201"}


def test_c15_blocks_a_departmental_code_without_a_mapping():
    c15 = pay(payment(expected_econ_gov_code=None), rule="C15")
    assert c15.outcome == BLOCK and c15.message == "部门经济分类 30201 在对照表中没有对应的政府经济分类"


def test_c15_passes_the_mapped_code_and_follows_the_level():
    assert pay(rule="C15").message == "部门经济分类 30201 对应政府经济分类 50201"
    assert pay(payment(econ_gov_code="50299"), s=settings(C15="warn"), rule="C15").outcome == WARN
    assert pay(payment(econ_gov_code="50299"), s=settings(C15="off"), rule="C15") is None


# --------------------------------------------------------------------------------------------- C16


def test_c16_reports_three_guarantees_spending_as_information_not_a_warning():
    c16 = pay(ind=indicator(three_guarantees=True), rule="C16")
    assert c16.outcome == PASS
    assert c16.message == "“三保”支出（保基本民生、保工资、保运转），支付排序时优先保障"
    assert c16.evidence == {"indicator": "ZB-2026-001", "three_guarantees": True}
    assert pay(rule="C16").message == "非“三保”支出"


def test_c16_can_be_switched_off_but_never_warns():
    assert pay(ind=indicator(three_guarantees=True), s=settings(C16="off"), rule="C16") is None
    assert pay(ind=indicator(three_guarantees=True), s=settings(C16="warn"), rule="C16").outcome == PASS


# --------------------------------------------------------------------------------------------- C17


def test_c17_blocks_an_applicant_who_is_also_an_approver():
    c17 = pay(payment(approver_ids={1, 2}), rule="C17")
    assert c17.outcome == BLOCK
    assert c17.message == "申请人不得审批本人的申请（不相容岗位分离）"
    assert c17.evidence == {"applicant_id": 1, "approver_ids": [1, 2]}


def test_c17_passes_separate_people_and_is_locked_at_block():
    assert pay(rule="C17").outcome == PASS
    assert pay(payment(approver_ids={1}), s=settings(C17="off"), rule="C17").outcome == BLOCK


# --------------------------------------------------------------------------------------------- C18


def large(**changes) -> PaymentFacts:
    return payment(amount=Decimal("50000"), **changes)


def big_indicator() -> IndicatorFacts:
    return indicator(available=Decimal("900000"))


def test_c18_blocks_a_large_payment_without_a_collective_decision():
    c18 = pay(large(), big_indicator(), rule="C18")
    assert c18.outcome == BLOCK
    assert c18.message == ("大额资金：本笔 50,000.00 元，达到 50,000.00 元，须先经党委会/党政班子会集体决策，"
                           "并登记会议日期和纪要编号")
    assert c18.evidence["threshold"] == "50000.00" and c18.evidence["decision"] is None


def test_c18_blocks_a_large_contract_a_split_purpose_and_a_major_item():
    contract = pay(payment(contract_no="HT-1", contract_amount=Decimal("10000")), rule="C18")
    assert contract.outcome == BLOCK and contract.message.startswith("合同金额 10,000.00 元达到 10,000.00 元")
    split = pay(payment(amount=Decimal("1000"), purpose_paid_before=Decimal("49000")), rule="C18")
    assert split.outcome == BLOCK and "同用途累计 50,000.00 元" in split.message
    assert pay(payment(major_item=True), rule="C18").message.startswith("属“三重一大”事项")


def test_c18_passes_with_a_meeting_reference_or_below_the_thresholds():
    decided = large(collective_decision={"meeting_date": date(2026, 3, 2), "minutes_no": "党委会〔2026〕5号"})
    c18 = pay(decided, big_indicator(), rule="C18")
    assert c18.outcome == PASS and c18.message == "已经集体决策：2026-03-02 会议纪要 党委会〔2026〕5号"
    assert c18.evidence["decision"] == {"meeting_date": "2026-03-02", "minutes_no": "党委会〔2026〕5号"}
    blank = large(collective_decision={"meeting_date": "2026-03-02", "minutes_no": " "})
    assert pay(blank, big_indicator(), rule="C18").outcome == BLOCK
    assert pay(payment(amount=Decimal("49999.99")), rule="C18").message == "未达集体决策标准"


def test_c18_follows_the_townships_level_and_threshold():
    assert pay(large(), big_indicator(), settings(C18="warn"), rule="C18").outcome == WARN
    assert pay(large(), big_indicator(), settings(C18="off"), rule="C18") is None
    assert pay(s=with_setting("collective_decision.amount", "1000"), rule="C18").outcome == BLOCK


# --------------------------------------------------------------------------------------------- C19


def test_c19_warns_about_a_payment_without_invoices_or_attachments():
    c19 = pay(payment(invoice_count=0, attachments=0), rule="C19")
    assert c19.outcome == WARN
    assert c19.message == "未附发票或其他合法凭据，不得以白条支付"
    assert c19.evidence == {"required": True, "invoice_count": 0, "attachments": 0}


def test_c19_passes_with_an_attachment_or_when_the_township_does_not_require_invoices():
    assert pay(payment(invoice_count=0, attachments=2), rule="C19").outcome == PASS
    relaxed = with_setting("invoices.required", False)
    assert pay(payment(invoice_count=0), s=relaxed, rule="C19").message == "本乡镇未要求支付时附票据"


def test_c19_follows_the_townships_level():
    bare = payment(invoice_count=0)
    assert pay(bare, s=settings(C19="block"), rule="C19").outcome == BLOCK
    assert pay(bare, s=settings(C19="off"), rule="C19") is None


# --------------------------------------------------------------------------------------------- C02


def line(**changes) -> LineFacts:
    base = LineFacts(project_id=7, project_status="in_library", econ_dept_code="30201", econ_gov_code="50201",
                     expected_econ_gov_code="50201", amount=Decimal("80000"))
    return replace(base, **changes)


def test_c02_blocks_a_budget_line_without_a_project_in_the_library():
    c02 = verdict(check_line(line(project_id=None, project_status=None), settings()), "C02")
    assert c02.outcome == BLOCK and c02.message == "预算申报须选择项目库中的项目（先有项目后有预算）"
    c02 = verdict(check_line(line(project_status="reviewing"), settings()), "C02")
    assert c02.outcome == BLOCK and c02.message == "项目 7 尚未入库（状态：reviewing），不能申报预算"
    assert c02.evidence == {"project_id": 7, "project_status": "reviewing", "project_org_matches": True}
    c02 = verdict(check_line(line(project_org_matches=False), settings()), "C02")
    assert c02.outcome == BLOCK and c02.message == "项目 7 不属于申报单位"


def test_c02_passes_a_project_in_the_library_and_follows_the_level():
    verdicts = check_line(line(), settings())
    assert [(v.rule, v.outcome) for v in verdicts] == [("C02", PASS), ("C15", PASS)]
    assert verdict(check_line(line(project_status="draft"), settings(C02="warn")), "C02").outcome == WARN
    assert verdict(check_line(line(project_status="draft"), settings(C02="off")), "C02") is None


def test_a_budget_line_is_checked_against_the_economic_code_mapping_too():
    c15 = verdict(check_line(line(econ_gov_code="50299"), settings()), "C15")
    assert c15.outcome == BLOCK and "应对应 50201" in c15.message


# --------------------------------------------------------------------------------------------- C05


def test_c05_blocks_allocations_beyond_the_pending_balance():
    allocation = AllocationFacts(pending_balance=Decimal("100000"), amounts=(Decimal("60000"), Decimal("40000.01")),
                                 pending_code="DF-1")
    [c05] = check_allocation(allocation, settings())
    assert c05.outcome == BLOCK and c05.message == "分配合计 100,000.01 元超过待分指标余额 100,000.00 元"
    assert c05.evidence == {"pending_indicator": "DF-1", "pending_balance": "100000.00", "allocated": "100000.01",
                            "count": 2}


def test_c05_blocks_a_reallocation_beyond_the_sources_available_amount():
    moved = ReallocationFacts(amount=Decimal("5000"), source_available=Decimal("4000"),
                              source_frozen=Decimal("2000"), source_code="ZB-1", target_code="ZB-2")
    c05 = verdict(check_reallocation(moved, settings()), "C05")
    assert c05.outcome == BLOCK and c05.message == "调剂金额 5,000.00 元超过调出指标可用额度 4,000.00 元"
    assert c05.evidence["source_frozen"] == "2000.00"


def test_c05_passes_within_the_balance_and_follows_the_level():
    exact = AllocationFacts(pending_balance=Decimal("100"), amounts=(Decimal("60"), Decimal("40")))
    assert check_allocation(exact, settings())[0].outcome == PASS
    moved = ReallocationFacts(amount=Decimal("4000"), source_available=Decimal("4000"))
    assert verdict(check_reallocation(moved, settings()), "C05").outcome == PASS
    over = replace(exact, amounts=(Decimal("101"),))
    assert check_allocation(over, settings(C05="warn"))[0].outcome == WARN
    assert check_allocation(over, settings(C05="off")) == []


# --------------------------------------------------------------------------------------------- C08


def test_c08_blocks_an_adjustment_that_changes_the_total_without_the_congress_step():
    [c08] = check_adjustment(AdjustmentFacts(Decimal("1000000"), Decimal("1200000"), path_has_congress=False),
                             settings())
    assert c08.outcome == BLOCK
    assert c08.message == "预算调整使支出总额变动 200,000.00 元，须经镇人民代表大会批准，流程中没有镇人大审批环节"
    assert c08.evidence == {"total_before": "1000000.00", "total_after": "1200000.00", "change": "200000.00",
                            "path_has_congress": False}
    assert "第六十七条" in c08.source


def test_c08_passes_with_the_congress_step_or_an_unchanged_total_and_follows_the_level():
    with_congress = AdjustmentFacts(Decimal("1000000"), Decimal("900000"), path_has_congress=True)
    assert check_adjustment(with_congress, settings())[0].outcome == PASS
    same = AdjustmentFacts(Decimal("1000000"), Decimal("1000000"), path_has_congress=False)
    assert check_adjustment(same, settings())[0].message == "支出总额不变，按调剂办理"
    bypass = replace(with_congress, path_has_congress=False)
    assert check_adjustment(bypass, settings(C08="warn"))[0].outcome == WARN
    assert check_adjustment(bypass, settings(C08="off")) == []


# --------------------------------------------------------------------------------------------- C13


def carry(**changes) -> CarryOverFacts:
    base = CarryOverFacts(amount=Decimal("30000"), basic_expenditure=True, from_econ_code="30101",
                          indicator_code="ZB-2025-9")
    return replace(base, **changes)


def test_c13_blocks_basic_expenditure_carry_over_moved_between_staff_and_routine_costs():
    [c13] = check_carry_over(carry(to_econ_code="30201"), settings())
    assert c13.outcome == BLOCK
    assert c13.message == "基本支出结转资金不得在人员经费和公用经费之间调剂：30101（人员经费）→ 30201（公用经费）"
    assert c13.evidence["from_econ_code"] == "30101" and c13.evidence["to_econ_code"] == "30201"


def test_c13_flags_two_year_old_carry_over_for_recall_as_a_warning_even_at_block_level():
    [c13] = check_carry_over(carry(years_unused=2), settings())
    assert c13.outcome == WARN
    assert c13.message == "结转资金 30,000.00 元连续 2 年未用完，按结余资金管理，应由财政收回"
    assert c13.evidence["recall_after_years"] == 2


def test_c13_passes_carry_over_within_its_class_and_project_money_and_follows_the_level():
    assert check_carry_over(carry(to_econ_code="30102", years_unused=1), settings())[0].outcome == PASS
    assert check_carry_over(carry(basic_expenditure=False, to_econ_code="30201"), settings())[0].outcome == PASS
    assert check_carry_over(carry(to_econ_code="30201"), settings(C13="warn"))[0].outcome == WARN
    assert check_carry_over(carry(to_econ_code="30201"), settings(C13="off")) == []
    later = with_setting("carry_over.recall_after_years", 3)
    assert check_carry_over(carry(years_unused=2), later)[0].outcome == PASS
