"""Control rules (控制规则 C01–C19, docs/domain.md §4): pure functions over plain facts and settings.

Callers read the database, fill the facts dataclasses below and pass the township's settings
(`app.controls.settings.settings_for`). Nothing here touches a session, Flask or the clock.

Every rule is one small function returning a `Verdict`, or None when the township switched the rule
off. A rule finds a violation or it passes; the township's level for the rule (settings["rules"])
decides what a violation means: "block" stops the request, "warn" lets it through with a warning,
"off" skips the rule. C01, C03, C06 and C17 always block (LOCKED_RULES); C16 is informational only.
A few findings are notices by nature (a two-year-old carry-over to recall): they warn at most.

Money is Decimal throughout (facts refuse floats); evidence carries amounts as "1234.50" strings so a
Verdict stores as JSON unchanged (ControlResult.evidence).
"""
import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from app.models.budget import ControlOutcome, ProjectStatus

BLOCK, WARN, OFF, INFO = "block", "warn", "off", "info"

# Each rule's default level: §4's Hard -> "block", Soft -> "warn"; C16 is information only.
RULE_LEVELS: dict[str, str] = {
    "C01": BLOCK, "C02": BLOCK, "C03": BLOCK, "C04": BLOCK, "C05": BLOCK, "C06": BLOCK, "C07": BLOCK,
    "C08": BLOCK, "C09": BLOCK, "C10": BLOCK, "C11": WARN, "C12": BLOCK, "C13": BLOCK, "C14": WARN,
    "C15": BLOCK, "C16": INFO, "C17": BLOCK, "C18": BLOCK, "C19": WARN,
}
# No township may switch these off or down to a warning.
LOCKED_RULES = frozenset({"C01", "C03", "C06", "C17"})
# Rules that never warn or block: "info" (on) or "off".
INFO_RULES = frozenset({"C16"})

SOURCES: dict[str, str] = {
    "C01": "《预算法》第十三条：支出必须以经批准的预算为依据，未列入预算的不得支出",
    "C02": "《预算管理一体化规范（试行）》项目库管理：先有项目后有预算",
    "C03": "预算管理一体化指标控制：支付金额不得超过指标可用额度（可用 = 指标额度 − 已用 − 冻结 − 在途）",
    "C04": "《水利部国库集中支付管理工作手册》：按用款计划控制的，不得超额度办理支付业务",
    "C05": "指标账控制：分配合计不得超过待分指标余额，调剂不得超过调出指标可用额度",
    "C06": "预算指标冻结管理：冻结额度不可支付，解冻后方可使用",
    "C07": "《预算法》第七十二条：按预算科目执行，科目、项目间调剂按规定办理",
    "C08": "《预算法》第六十七条、第六十九条：预算调整方案须经本级人民代表大会批准",
    "C09": "《财政违法行为处罚处分条例》：专项资金专款专用，不得挪用或改变用途",
    "C10": "《中央预算单位政府集中采购目录及标准（2020年版）》（国办发〔2019〕55号）：分散采购限额与合同控制",
    "C11": "《中央预算单位公务卡强制结算目录》：目录内支出使用公务卡结算，不得使用现金",
    "C12": "厉行节约有关规定、《党政机关国内公务接待管理规定》：“三公”经费不得超过年度预算",
    "C13": "《预算法》第四十二条；《中央部门财政拨款结转和结余资金管理办法》（财预〔2010〕7号）",
    "C14": "国库动态监控：现金提取按单笔、月度、年度限额监控",
    "C15": "财政部部门预算支出经济分类与政府预算支出经济分类对照表",
    "C16": "“三保”（保基本民生、保工资、保运转）支出优先保障",
    "C17": "不相容岗位相互分离：申请人不得审批本人申请",
    "C18": "乡镇“三重一大”集体决策制度：大额资金、重大合同须经党委会/党政班子会集体研究",
    "C19": "乡镇机关财务管理制度：报销须附合法票据，不得以白条入账",
}

CENT = Decimal("0.01")


def allowed_levels(rule: str) -> tuple[str, ...]:
    """The levels a township may give `rule`."""
    if rule in LOCKED_RULES:
        return (BLOCK,)
    if rule in INFO_RULES:
        return (INFO, OFF)
    return (BLOCK, WARN, OFF)


def level_of(settings: Mapping, rule: str) -> str:
    """The township's level for `rule`; a locked rule is "block" whatever the settings say."""
    level = (settings.get("rules") or {}).get(rule, RULE_LEVELS[rule])
    return level if level in allowed_levels(rule) else RULE_LEVELS[rule]


def money(value) -> Decimal:
    """A yuan amount as Decimal. Floats are refused: money never passes through binary floating point."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"金额须为 Decimal、整数或字符串，不能是 {type(value).__name__}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"不是金额：{value!r}") from exc


def _m(value) -> str:
    """Evidence form of an amount: "1234.50"."""
    return str(money(value).quantize(CENT))


def _y(value) -> str:
    """Message form of an amount: "1,234.50 元"."""
    return f"{money(value).quantize(CENT):,} 元"


def _coerce_money(obj, names: Iterable[str]) -> None:
    for name in names:
        value = getattr(obj, name)
        if value is not None:
            object.__setattr__(obj, name, money(value))


def matching_code(code: str | None, codes: Iterable[str]) -> str | None:
    """The listed code that `code` falls under (equal, or a listed prefix such as "302"), longest first."""
    if not code:
        return None
    found = [c for c in codes if code == c or code.startswith(c)]
    return max(found, key=len) if found else None


# --------------------------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class EarmarkedScope:
    """What an earmarked (专项/直达) indicator may pay for (C09)."""

    project_id: int | None = None  # the only project it may pay; None: not restricted beyond the indicator
    econ_codes: tuple[str, ...] = ()  # allowed 部门经济分类 codes (a 3-digit code covers its 5-digit ones); () = any


@dataclass(frozen=True)
class IndicatorFacts:
    """The budget indicator (预算指标) a payment spends, as the ledger sees it at check time.

    Amounts are yuan (Decimal). `available` is already net of frozen amounts and in-flight reservations
    (可用 = 指标额度 − 已用 − 冻结 − 在途); `frozen` is reported separately so C06 can show it.
    """

    code: str | None  # BGT_ID, for messages and evidence
    available: Decimal  # 可用额度 now, net of used, frozen and reserved (C03)
    frozen: Decimal = Decimal(0)  # 冻结 (C06)
    exists: bool = True  # False: the payment names an indicator that does not exist (C01)
    executable: bool = True  # 可执行: allocated to a unit, not 待分, not recalled or closed (C01)
    org_matches: bool = True  # the indicator belongs to the paying unit (C01)
    project_id: int | None = None  # the indicator's project (C07)
    func_code: str = ""  # 功能分类 (C07)
    econ_dept_code: str = ""  # 部门预算经济分类 (C07)
    econ_gov_code: str = ""  # 政府预算经济分类
    fund_nature_code: str = ""  # 资金性质 (C07)
    earmarked: bool = False  # 专项/直达资金 (C09)
    earmarked_scope: EarmarkedScope | None = None  # what earmarked money may pay (C09)
    plan_controlled: bool = False  # 按用款计划控制 (C04)
    plan_available: Decimal | None = None  # this month's approved plan minus what it already paid; None: no plan
    plan_month: str | None = None  # "2026-03", for evidence (C04)
    three_guarantees: bool = False  # “三保” spending (C16)
    total: Decimal | None = None  # 指标额度, evidence only
    used: Decimal | None = None  # 已用, evidence only
    reserved: Decimal | None = None  # 在途 (reserved by pending payments), evidence only

    def __post_init__(self):
        _coerce_money(self, ("available", "frozen", "plan_available", "total", "used", "reserved"))

    @classmethod
    def missing(cls, code: str | None = None) -> "IndicatorFacts":
        """The payment names no indicator, or one that does not exist."""
        return cls(code=code, available=Decimal(0), exists=False, executable=False, org_matches=False)


@dataclass(frozen=True)
class PaymentFacts:
    """A payment request (支付申请) at check time. Amounts in yuan (Decimal); "before" means before this payment."""

    amount: Decimal  # 本笔支付金额
    purpose: str  # 用途
    payee_name: str
    payee_account: str
    func_code: str  # 功能分类
    econ_dept_code: str  # 部门预算经济分类, e.g. "30201"
    econ_gov_code: str  # 政府预算经济分类, e.g. "50201"
    fund_nature_code: str  # 资金性质
    applicant_id: int  # who raised the request (C17)
    approver_ids: frozenset[int] = frozenset()  # who decided, or is assigned, an approval step of it (C17)
    payee_is_person: bool = False  # paid to an individual's account
    settle_mode: str = "transfer"  # transfer / cash / card (C11, C14)
    expected_econ_gov_code: str | None = None  # what the 对照表 maps econ_dept_code to; None: no mapping (C15)
    project_id: int | None = None  # the project the request says it serves, if it names one (C07, C09)
    to_own_account: bool = False  # payee is the unit's own 实有资金账户 or its 工会 account (C09)
    contract_no: str | None = None  # 合同编号 (C10, C18)
    contract_amount: Decimal | None = None  # that contract's amount (C10, C18)
    contract_paid_before: Decimal = Decimal(0)  # paid on that contract this year before this payment (C10)
    purpose_paid_before: Decimal = Decimal(0)  # paid this year for the same purpose (purpose_key) before (C10, C18)
    cash_this_month: Decimal = Decimal(0)  # the unit's cash payments this month before this one (C14)
    cash_this_year: Decimal = Decimal(0)  # the unit's cash payments this year before this one (C14)
    invoice_count: int = 0  # 发票 attached (C19)
    attachments: int = 0  # other attachments (C19)
    collective_decision: Mapping | None = None  # {"meeting_date", "minutes_no"} of the 党委会 decision (C18)
    major_item: bool = False  # the request is a 三重一大 item whatever its amount (C18)
    three_public_spent_this_year: Mapping[str, Decimal] = field(default_factory=dict)  # 三公 code -> paid (C12)
    is_procurement_item: bool = False  # the item is on the 集中采购目录 (C10)
    procurement_kind: str = "goods"  # goods (goods and services) / works (C10)
    card_unavailable: bool = False  # 公务卡目录 exception: below county level or no card acceptance (C11)

    def __post_init__(self):
        _coerce_money(self, ("amount", "contract_amount", "contract_paid_before", "purpose_paid_before",
                             "cash_this_month", "cash_this_year"))
        object.__setattr__(self, "approver_ids", frozenset(self.approver_ids))
        object.__setattr__(self, "three_public_spent_this_year",
                           {k: money(v) for k, v in self.three_public_spent_this_year.items()})


@dataclass(frozen=True)
class LineFacts:
    """A budget line (预算申报/调整 line) with the project it names (C02) and its economic codes (C15)."""

    project_id: int | None  # None: the line names no project
    project_status: str | None  # the project's ProjectStatus value; None: no such project
    econ_dept_code: str
    econ_gov_code: str
    expected_econ_gov_code: str | None = None  # the 对照表's government code for econ_dept_code (C15)
    project_org_matches: bool = True  # the project belongs to the declaring unit
    amount: Decimal | None = None  # evidence only

    def __post_init__(self):
        _coerce_money(self, ("amount",))


@dataclass(frozen=True)
class AllocationFacts:
    """分配: a 待分指标 shared out into executable indicators (C05)."""

    pending_balance: Decimal  # 待分指标余额 before this allocation
    amounts: tuple[Decimal, ...]  # one per target indicator
    pending_code: str | None = None  # the 待分指标's code, for evidence

    def __post_init__(self):
        _coerce_money(self, ("pending_balance",))
        object.__setattr__(self, "amounts", tuple(money(a) for a in self.amounts))


@dataclass(frozen=True)
class ReallocationFacts:
    """调剂 (total unchanged): `amount` moves from a source indicator to a target (C05, C09)."""

    amount: Decimal
    source_available: Decimal  # the source's 可用 now (net of frozen and reserved)
    source_frozen: Decimal = Decimal(0)  # evidence
    source_code: str | None = None
    target_code: str | None = None
    source_earmarked: bool = False  # the source is 专项/直达资金 (C09)
    same_project: bool = True  # target and source serve the same project (C09)

    def __post_init__(self):
        _coerce_money(self, ("amount", "source_available", "source_frozen"))


@dataclass(frozen=True)
class AdjustmentFacts:
    """预算调整: a change to the township's budget (C08)."""

    total_before: Decimal  # total spending of the approved budget
    total_after: Decimal  # total spending once the adjustment is executed
    path_has_congress: bool  # the request's process path includes the 镇人大 approval step

    def __post_init__(self):
        _coerce_money(self, ("total_before", "total_after"))


@dataclass(frozen=True)
class CarryOverFacts:
    """结转: an indicator's unspent balance carried into the next year (C13)."""

    amount: Decimal
    basic_expenditure: bool  # 基本支出 (True) or 项目支出 (False)
    from_econ_code: str  # the carried indicator's 部门经济分类
    to_econ_code: str | None = None  # where it is to be spent next year; None: the same code
    years_unused: int = 0  # consecutive year-ends this money has been carried without being spent
    indicator_code: str | None = None

    def __post_init__(self):
        _coerce_money(self, ("amount",))


# ------------------------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    """One rule's finding on one request: what `ControlResult` stores."""

    rule: str  # "C01".."C19"
    outcome: ControlOutcome  # pass / warn / block
    message: str  # Chinese, for the approver
    evidence: dict  # the numbers and codes the rule used (amounts as "0.00" strings)
    source: str  # the regulation or rule it applies

    def as_dict(self) -> dict:
        return asdict(self) | {"outcome": str(self.outcome)}


def _rule(code: str) -> Callable:
    """Skip the rule (return None) when the township switched it off."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs) -> Verdict | None:
            settings = kwargs["settings"] if "settings" in kwargs else args[-1]
            if level_of(settings, code) == OFF:
                return None
            return fn(*args, **kwargs)

        run.rule = code
        return run

    return wrap


def _passed(code: str, message: str, evidence: dict) -> Verdict:
    return Verdict(code, ControlOutcome.PASS, message, evidence, SOURCES[code])


def _violated(code: str, settings: Mapping, message: str, evidence: dict, *, notice: bool = False) -> Verdict:
    """A violation: blocks or warns per the township's level; a notice warns at most."""
    blocks = level_of(settings, code) == BLOCK and not notice
    return Verdict(code, ControlOutcome.BLOCK if blocks else ControlOutcome.WARN, message, evidence, SOURCES[code])


def _setting(settings: Mapping, section: str, key: str) -> Decimal:
    return money(settings[section][key])


# ------------------------------------------------------------------------------------- payment rules


@_rule("C01")
def c01_executable_indicator(payment: PaymentFacts, indicator: IndicatorFacts | None, settings: Mapping):
    """C01 无预算不支出: the payment spends an existing, executable indicator of the paying unit."""
    if indicator is None or not indicator.exists:
        code = indicator.code if indicator else None
        message = f"预算指标 {code} 不存在，无预算不得支出" if code else "支付未关联预算指标，无预算不得支出"
        return _violated("C01", settings, message, {"indicator": code, "exists": False})
    evidence = {"indicator": indicator.code, "exists": True, "executable": indicator.executable,
                "org_matches": indicator.org_matches}
    problems = []
    if not indicator.executable:
        problems.append(f"预算指标 {indicator.code} 不是可执行指标（待分、已收回或已结束）")
    if not indicator.org_matches:
        problems.append(f"预算指标 {indicator.code} 不属于付款单位")
    if problems:
        return _violated("C01", settings, "；".join(problems), evidence)
    return _passed("C01", f"支付关联付款单位的可执行指标 {indicator.code}", evidence)


@_rule("C03")
def c03_within_available(payment: PaymentFacts, indicator: IndicatorFacts, settings: Mapping):
    """C03: the amount is within the indicator's available amount (net of used, frozen and reserved)."""
    evidence = {"indicator": indicator.code, "amount": _m(payment.amount), "available": _m(indicator.available)}
    for name in ("total", "used", "frozen", "reserved"):
        if getattr(indicator, name) is not None:
            evidence[name] = _m(getattr(indicator, name))
    if payment.amount > indicator.available:
        short = payment.amount - indicator.available
        return _violated("C03", settings, f"支付金额 {_y(payment.amount)}超过指标可用额度 {_y(indicator.available)}"
                                          f"（差 {_y(short)}）", evidence)
    return _passed("C03", f"支付金额 {_y(payment.amount)}未超过指标可用额度 {_y(indicator.available)}", evidence)


@_rule("C04")
def c04_within_plan(payment: PaymentFacts, indicator: IndicatorFacts, settings: Mapping):
    """C04: a plan-controlled indicator pays only within this month's approved fund-use plan."""
    evidence = {"indicator": indicator.code, "plan_controlled": indicator.plan_controlled,
                "amount": _m(payment.amount)}
    if not indicator.plan_controlled:
        return _passed("C04", "该指标不按用款计划控制", evidence)
    evidence |= {"plan_month": indicator.plan_month,
                 "plan_available": None if indicator.plan_available is None else _m(indicator.plan_available)}
    if indicator.plan_available is None:
        return _violated("C04", settings, "该指标按用款计划控制，本月没有已批复的用款计划", evidence)
    if payment.amount > indicator.plan_available:
        return _violated("C04", settings, f"支付金额 {_y(payment.amount)}超过本月用款计划可用额度 "
                                          f"{_y(indicator.plan_available)}", evidence)
    return _passed("C04", f"支付金额未超过本月用款计划可用额度 {_y(indicator.plan_available)}", evidence)


@_rule("C06")
def c06_frozen_not_spendable(payment: PaymentFacts, indicator: IndicatorFacts, settings: Mapping):
    """C06: frozen money is not available; blocks when the payment would need it."""
    evidence = {"indicator": indicator.code, "amount": _m(payment.amount), "available": _m(indicator.available),
                "frozen": _m(indicator.frozen)}
    if indicator.frozen > 0 and indicator.available < payment.amount <= indicator.available + indicator.frozen:
        return _violated("C06", settings, f"指标冻结 {_y(indicator.frozen)}，冻结部分不可支付：可用仅 "
                                          f"{_y(indicator.available)}，本笔 {_y(payment.amount)}须动用冻结额度，"
                                          "解冻后方可支付", evidence)
    if indicator.frozen > 0:
        return _passed("C06", f"指标冻结 {_y(indicator.frozen)}，已从可用额度中扣除，本笔无须动用", evidence)
    return _passed("C06", "指标没有冻结额度", evidence)


CODE_NAMES = {"func_code": "功能分类", "econ_dept_code": "部门经济分类", "fund_nature_code": "资金性质",
              "project_id": "项目"}


@_rule("C07")
def c07_same_codes(payment: PaymentFacts, indicator: IndicatorFacts, settings: Mapping):
    """C07 按科目执行: the payment's function, economic, fund-nature codes (and project) equal the indicator's."""
    names = ["func_code", "econ_dept_code", "fund_nature_code"]
    if payment.project_id is not None:
        names.append("project_id")
    evidence = {"indicator": indicator.code, "payment": {n: getattr(payment, n) for n in names},
                "indicator_codes": {n: getattr(indicator, n) for n in names}}
    mismatched = [n for n in names if getattr(payment, n) != getattr(indicator, n)]
    evidence["mismatched"] = mismatched
    if mismatched:
        parts = "；".join(f"{CODE_NAMES[n]} {getattr(payment, n)} ≠ 指标 {getattr(indicator, n)}" for n in mismatched)
        return _violated("C07", settings, f"支付科目与指标不一致：{parts}。跨科目、跨项目使用须先办理调剂", evidence)
    return _passed("C07", "支付的功能分类、经济分类、资金性质与指标一致", evidence)


@_rule("C09")
def c09_earmarked_use(payment: PaymentFacts, indicator: IndicatorFacts, settings: Mapping):
    """C09 专款专用: earmarked money pays only its project and purposes, never the unit's own account."""
    evidence = {"indicator": indicator.code, "earmarked": indicator.earmarked}
    if not indicator.earmarked:
        return _passed("C09", "非专项资金", evidence)
    scope = indicator.earmarked_scope or EarmarkedScope()
    evidence |= {"econ_dept_code": payment.econ_dept_code, "allowed_econ_codes": list(scope.econ_codes),
                 "project_id": payment.project_id, "allowed_project_id": scope.project_id,
                 "to_own_account": payment.to_own_account}
    problems = []
    if payment.to_own_account:
        problems.append("专项资金不得转入本单位实有资金账户或工会账户")
    if scope.econ_codes and matching_code(payment.econ_dept_code, scope.econ_codes) is None:
        problems.append(f"经济分类 {payment.econ_dept_code} 不在专项资金用途范围内（允许："
                        f"{'、'.join(scope.econ_codes)}）")
    if scope.project_id is not None and payment.project_id is not None and payment.project_id != scope.project_id:
        problems.append(f"专项资金只能用于项目 {scope.project_id}，本笔为项目 {payment.project_id}")
    if problems:
        return _violated("C09", settings, "；".join(problems), evidence)
    return _passed("C09", "专项资金用于本项目规定用途", evidence)


@_rule("C10")
def c10_procurement_contract(payment: PaymentFacts, settings: Mapping):
    """C10: a catalogue item or an amount at the decentralised-procurement limit needs a contract;
    cumulative payments never exceed the contract amount."""
    works = payment.procurement_kind == "works"
    limit = _setting(settings, "procurement", "works_limit" if works else "goods_services_limit")
    basis = (payment.contract_amount if payment.contract_amount is not None
             else payment.amount + payment.purpose_paid_before)
    needs_contract = payment.is_procurement_item or basis >= limit
    cumulative = payment.contract_paid_before + payment.amount
    evidence = {"amount": _m(payment.amount), "procurement_kind": "works" if works else "goods",
                "is_procurement_item": payment.is_procurement_item, "limit": _m(limit), "basis": _m(basis),
                "contract_no": payment.contract_no,
                "contract_amount": None if payment.contract_amount is None else _m(payment.contract_amount),
                "contract_paid_before": _m(payment.contract_paid_before), "cumulative": _m(cumulative)}
    problems = []
    if needs_contract and not payment.contract_no:
        why = "属集中采购目录" if payment.is_procurement_item else f"金额 {_y(basis)}达到分散采购限额 {_y(limit)}"
        problems.append(f"{why}，须关联政府采购合同（合同编号）")
    if needs_contract and payment.contract_no and payment.contract_amount is None:
        problems.append(f"合同 {payment.contract_no} 金额未知，无法核对累计支付")
    if payment.contract_amount is not None and cumulative > payment.contract_amount:
        problems.append(f"合同 {payment.contract_no} 累计支付 {_y(cumulative)}超过合同金额 "
                        f"{_y(payment.contract_amount)}")
    if problems:
        return _violated("C10", settings, "；".join(problems), evidence)
    if payment.contract_amount is not None:
        return _passed("C10", f"合同 {payment.contract_no} 累计支付 {_y(cumulative)}未超过合同金额 "
                              f"{_y(payment.contract_amount)}", evidence)
    return _passed("C10", f"不属集中采购目录，且未达分散采购限额 {_y(limit)}", evidence)


@_rule("C11")
def c11_official_card(payment: PaymentFacts, settings: Mapping):
    """C11 公务卡强制结算: catalogue items paid in cash above the small-amount exception."""
    card = settings["official_card"]
    exempt = money(card["small_cash_exempt"])
    listed = matching_code(payment.econ_dept_code, card["econ_codes"])
    evidence = {"econ_dept_code": payment.econ_dept_code, "settle_mode": payment.settle_mode,
                "in_catalogue": listed is not None, "amount": _m(payment.amount), "small_cash_exempt": _m(exempt),
                "card_unavailable": payment.card_unavailable}
    if listed is None:
        return _passed("C11", f"经济分类 {payment.econ_dept_code} 不在公务卡强制结算目录内", evidence)
    if payment.settle_mode != "cash":
        return _passed("C11", "公务卡目录内支出，未使用现金结算", evidence)
    if payment.amount <= exempt:
        return _passed("C11", f"现金支付 {_y(payment.amount)}未超过小额例外 {_y(exempt)}", evidence)
    if payment.card_unavailable:
        return _passed("C11", "已声明县级以下地区或不具备刷卡条件，按例外允许现金结算", evidence)
    return _violated("C11", settings, f"经济分类 {payment.econ_dept_code} 属公务卡强制结算目录，现金支付 "
                                      f"{_y(payment.amount)}超过小额例外 {_y(exempt)}，应使用公务卡或转账结算",
                     evidence)


@_rule("C12")
def c12_three_public_budget(payment: PaymentFacts, settings: Mapping):
    """C12 三公经费: spending on a 三公 code stays within its annual budget, when the township set one."""
    section = settings["three_public"]
    listed = matching_code(payment.econ_dept_code, section["econ_codes"])
    evidence = {"econ_dept_code": payment.econ_dept_code, "three_public": listed is not None}
    if listed is None:
        return _passed("C12", f"经济分类 {payment.econ_dept_code} 不属“三公”经费", evidence)
    spent = sum((v for k, v in payment.three_public_spent_this_year.items()
                 if matching_code(k, [listed]) is not None), Decimal(0))
    after = spent + payment.amount
    budget = section.get("annual_budget", {}).get(listed)
    evidence |= {"code": listed, "spent_this_year": _m(spent), "amount": _m(payment.amount), "after": _m(after),
                 "annual_budget": None if budget is None else _m(budget)}
    if budget is None:
        return _passed("C12", f"“三公”经费 {listed} 未设年度预算，本年已支 {_y(spent)}，含本笔 {_y(after)}", evidence)
    if after > money(budget):
        return _violated("C12", settings, f"“三公”经费 {listed} 本年已支 {_y(spent)}，含本笔 {_y(after)}，"
                                          f"超过年度预算 {_y(budget)}", evidence)
    return _passed("C12", f"“三公”经费 {listed} 含本笔 {_y(after)}，未超过年度预算 {_y(budget)}", evidence)


@_rule("C14")
def c14_cash_limits(payment: PaymentFacts, settings: Mapping):
    """C14 现金限额: cash per payment, per month and per year within the township's limits."""
    cash = settings["cash"]
    per_payment, per_month, per_year = (money(cash[k]) for k in ("per_payment", "per_month", "per_year"))
    evidence = {"settle_mode": payment.settle_mode}
    if payment.settle_mode != "cash":
        return _passed("C14", "非现金结算", evidence)
    month, year = payment.cash_this_month + payment.amount, payment.cash_this_year + payment.amount
    evidence |= {"amount": _m(payment.amount), "per_payment": _m(per_payment), "month_total": _m(month),
                 "per_month": _m(per_month), "year_total": _m(year), "per_year": _m(per_year)}
    problems = []
    if payment.amount > per_payment:
        problems.append(f"单笔现金 {_y(payment.amount)}超过限额 {_y(per_payment)}")
    if month > per_month:
        problems.append(f"本月现金累计 {_y(month)}超过限额 {_y(per_month)}")
    if year > per_year:
        problems.append(f"本年现金累计 {_y(year)}超过限额 {_y(per_year)}")
    if problems:
        return _violated("C14", settings, "；".join(problems), evidence)
    return _passed("C14", f"现金 {_y(payment.amount)}在单笔、月度、年度限额内", evidence)


@_rule("C15")
def c15_econ_code_mapping(facts: PaymentFacts | LineFacts, settings: Mapping):
    """C15: the government economic code is the one the 对照表 maps the departmental code to."""
    evidence = {"econ_dept_code": facts.econ_dept_code, "econ_gov_code": facts.econ_gov_code,
                "expected_econ_gov_code": facts.expected_econ_gov_code}
    if not facts.expected_econ_gov_code:
        return _violated("C15", settings, f"部门经济分类 {facts.econ_dept_code} 在对照表中没有对应的政府经济分类",
                         evidence)
    if facts.econ_gov_code != facts.expected_econ_gov_code:
        return _violated("C15", settings, f"政府经济分类 {facts.econ_gov_code} 与对照表不符：部门经济分类 "
                                          f"{facts.econ_dept_code} 应对应 {facts.expected_econ_gov_code}", evidence)
    return _passed("C15", f"部门经济分类 {facts.econ_dept_code} 对应政府经济分类 {facts.econ_gov_code}", evidence)


@_rule("C16")
def c16_three_guarantees(payment: PaymentFacts, indicator: IndicatorFacts, settings: Mapping):
    """C16 “三保”优先: information for payment scheduling, never a warning."""
    evidence = {"indicator": indicator.code, "three_guarantees": indicator.three_guarantees}
    if indicator.three_guarantees:
        return _passed("C16", "“三保”支出（保基本民生、保工资、保运转），支付排序时优先保障", evidence)
    return _passed("C16", "非“三保”支出", evidence)


@_rule("C17")
def c17_separation_of_duties(payment: PaymentFacts, settings: Mapping):
    """C17 不相容岗位分离: the applicant is none of the approvers."""
    evidence = {"applicant_id": payment.applicant_id, "approver_ids": sorted(payment.approver_ids)}
    if payment.applicant_id in payment.approver_ids:
        return _violated("C17", settings, "申请人不得审批本人的申请（不相容岗位分离）", evidence)
    return _passed("C17", "申请人不在审批人之中", evidence)


def _decision_ref(ref: Mapping | None) -> dict | None:
    if not ref:
        return None
    meeting, minutes = ref.get("meeting_date"), str(ref.get("minutes_no") or "").strip()
    if not meeting or not minutes:
        return None
    return {"meeting_date": meeting.isoformat() if isinstance(meeting, date) else str(meeting), "minutes_no": minutes}


@_rule("C18")
def c18_collective_decision(payment: PaymentFacts, settings: Mapping):
    """C18 三重一大: a large sum (this payment or the purpose's cumulative), a large contract or a 三重一大 item
    needs a 党委会/党政班子会 decision reference (meeting date and minutes number) before payment."""
    large = _setting(settings, "collective_decision", "amount")
    large_contract = _setting(settings, "collective_decision", "contract_amount")
    cumulative = payment.amount + payment.purpose_paid_before
    ref = _decision_ref(payment.collective_decision)
    evidence = {"amount": _m(payment.amount), "purpose_cumulative": _m(cumulative), "threshold": _m(large),
                "contract_amount": None if payment.contract_amount is None else _m(payment.contract_amount),
                "contract_threshold": _m(large_contract), "major_item": payment.major_item, "decision": ref}
    reasons = []
    if cumulative >= large:
        reasons.append(f"大额资金：本笔 {_y(payment.amount)}" + (f"，同用途累计 {_y(cumulative)}"
                                                                if payment.purpose_paid_before else "")
                       + f"，达到 {_y(large)}")
    if payment.contract_amount is not None and payment.contract_amount >= large_contract:
        reasons.append(f"合同金额 {_y(payment.contract_amount)}达到 {_y(large_contract)}")
    if payment.major_item:
        reasons.append("属“三重一大”事项")
    evidence["reasons"] = reasons
    if not reasons:
        return _passed("C18", "未达集体决策标准", evidence)
    if ref is None:
        return _violated("C18", settings, f"{'；'.join(reasons)}，须先经党委会/党政班子会集体决策，"
                                          "并登记会议日期和纪要编号", evidence)
    return _passed("C18", f"已经集体决策：{ref['meeting_date']} 会议纪要 {ref['minutes_no']}", evidence)


@_rule("C19")
def c19_invoices(payment: PaymentFacts, settings: Mapping):
    """C19 资金拨付凭据: lawful invoices (or other supporting documents) attached; no 白条."""
    required = bool(settings["invoices"]["required"])
    evidence = {"required": required, "invoice_count": payment.invoice_count, "attachments": payment.attachments}
    if not required:
        return _passed("C19", "本乡镇未要求支付时附票据", evidence)
    if payment.invoice_count > 0 or payment.attachments > 0:
        return _passed("C19", f"已附发票 {payment.invoice_count} 张、附件 {payment.attachments} 个", evidence)
    return _violated("C19", settings, "未附发票或其他合法凭据，不得以白条支付", evidence)


# ------------------------------------------------------------------ declarations, allocations, changes


@_rule("C02")
def c02_project_in_library(line: LineFacts, settings: Mapping):
    """C02 先有项目后有预算: a budget line names a project already in the 项目库 and owned by the unit."""
    evidence = {"project_id": line.project_id, "project_status": line.project_status,
                "project_org_matches": line.project_org_matches}
    if line.project_id is None or line.project_status is None:
        return _violated("C02", settings, "预算申报须选择项目库中的项目（先有项目后有预算）", evidence)
    if line.project_status != ProjectStatus.IN_LIBRARY:
        return _violated("C02", settings, f"项目 {line.project_id} 尚未入库（状态：{line.project_status}），"
                                          "不能申报预算", evidence)
    if not line.project_org_matches:
        return _violated("C02", settings, f"项目 {line.project_id} 不属于申报单位", evidence)
    return _passed("C02", f"项目 {line.project_id} 已入库", evidence)


@_rule("C05")
def c05_allocation_bound(allocation: AllocationFacts, settings: Mapping):
    """C05: the allocations together stay within the 待分指标 balance."""
    total = sum(allocation.amounts, Decimal(0))
    evidence = {"pending_indicator": allocation.pending_code, "pending_balance": _m(allocation.pending_balance),
                "allocated": _m(total), "count": len(allocation.amounts)}
    if total > allocation.pending_balance:
        return _violated("C05", settings, f"分配合计 {_y(total)}超过待分指标余额 {_y(allocation.pending_balance)}",
                         evidence)
    return _passed("C05", f"分配合计 {_y(total)}未超过待分指标余额 {_y(allocation.pending_balance)}", evidence)


@_rule("C05")
def c05_reallocation_bound(reallocation: ReallocationFacts, settings: Mapping):
    """C05: a 调剂 moves no more than the source indicator has available."""
    evidence = {"source": reallocation.source_code, "target": reallocation.target_code,
                "amount": _m(reallocation.amount), "source_available": _m(reallocation.source_available),
                "source_frozen": _m(reallocation.source_frozen)}
    if reallocation.amount > reallocation.source_available:
        return _violated("C05", settings, f"调剂金额 {_y(reallocation.amount)}超过调出指标可用额度 "
                                          f"{_y(reallocation.source_available)}", evidence)
    return _passed("C05", f"调剂金额未超过调出指标可用额度 {_y(reallocation.source_available)}", evidence)


@_rule("C09")
def c09_reallocation_keeps_earmark(reallocation: ReallocationFacts, settings: Mapping):
    """C09: earmarked money is not reallocated to another project."""
    evidence = {"source": reallocation.source_code, "target": reallocation.target_code,
                "source_earmarked": reallocation.source_earmarked, "same_project": reallocation.same_project}
    if reallocation.source_earmarked and not reallocation.same_project:
        return _violated("C09", settings, "专项资金专款专用，不得调剂用于其他项目", evidence)
    return _passed("C09", "调剂未改变专项资金用途" if reallocation.source_earmarked else "调出指标非专项资金",
                   evidence)


@_rule("C08")
def c08_congress_approval(adjustment: AdjustmentFacts, settings: Mapping):
    """C08: an adjustment that changes the total goes through the 镇人大 approval step."""
    change = adjustment.total_after - adjustment.total_before
    evidence = {"total_before": _m(adjustment.total_before), "total_after": _m(adjustment.total_after),
                "change": _m(change), "path_has_congress": adjustment.path_has_congress}
    if change == 0:
        return _passed("C08", "支出总额不变，按调剂办理", evidence)
    if not adjustment.path_has_congress:
        return _violated("C08", settings, f"预算调整使支出总额变动 {_y(change)}，须经镇人民代表大会批准，"
                                          "流程中没有镇人大审批环节", evidence)
    return _passed("C08", f"支出总额变动 {_y(change)}，流程含镇人大审批环节", evidence)


STAFF_PREFIXES = ("301", "303")  # 工资福利支出, 对个人和家庭的补助: 人员经费; everything else: 公用经费


def expense_class(econ_code: str) -> str:
    """基本支出's two halves: "人员经费" or "公用经费"."""
    return "人员经费" if econ_code.startswith(STAFF_PREFIXES) else "公用经费"


@_rule("C13")
def c13_carry_over(carry: CarryOverFacts, settings: Mapping):
    """C13: basic-expenditure carry-over stays on its side of 人员/公用; unused for N years -> recall (notice)."""
    recall_after = int(settings["carry_over"]["recall_after_years"])
    to_code = carry.to_econ_code or carry.from_econ_code
    evidence = {"indicator": carry.indicator_code, "amount": _m(carry.amount),
                "basic_expenditure": carry.basic_expenditure, "from_econ_code": carry.from_econ_code,
                "to_econ_code": to_code, "years_unused": carry.years_unused, "recall_after_years": recall_after}
    crossing = carry.basic_expenditure and expense_class(carry.from_econ_code) != expense_class(to_code)
    if crossing:
        return _violated("C13", settings, f"基本支出结转资金不得在人员经费和公用经费之间调剂："
                                          f"{carry.from_econ_code}（{expense_class(carry.from_econ_code)}）→ "
                                          f"{to_code}（{expense_class(to_code)}）", evidence)
    if carry.years_unused >= recall_after:
        return _violated("C13", settings, f"结转资金 {_y(carry.amount)}连续 {carry.years_unused} 年未用完，"
                                          "按结余资金管理，应由财政收回", evidence, notice=True)
    return _passed("C13", "结转资金可继续使用", evidence)


# ----------------------------------------------------------------------------------------- checks


def _present(verdicts: Iterable[Verdict | None]) -> list[Verdict]:
    return [v for v in verdicts if v is not None]


def check_payment(payment: PaymentFacts, indicator: IndicatorFacts | None, settings: Mapping) -> list[Verdict]:
    """Every payment rule, in rule order. Without an existing indicator only C01 speaks for it."""
    has_indicator = indicator is not None and indicator.exists
    verdicts = [c01_executable_indicator(payment, indicator, settings)]
    if has_indicator:
        verdicts += [c03_within_available(payment, indicator, settings),
                     c04_within_plan(payment, indicator, settings),
                     c06_frozen_not_spendable(payment, indicator, settings),
                     c07_same_codes(payment, indicator, settings),
                     c09_earmarked_use(payment, indicator, settings)]
    verdicts += [c10_procurement_contract(payment, settings), c11_official_card(payment, settings),
                 c12_three_public_budget(payment, settings), c14_cash_limits(payment, settings),
                 c15_econ_code_mapping(payment, settings)]
    if has_indicator:
        verdicts.append(c16_three_guarantees(payment, indicator, settings))
    verdicts += [c17_separation_of_duties(payment, settings), c18_collective_decision(payment, settings),
                 c19_invoices(payment, settings)]
    return _present(verdicts)


def check_line(line: LineFacts, settings: Mapping) -> list[Verdict]:
    """A budget line: C02 (project in the library), C15 (economic-code mapping)."""
    return _present([c02_project_in_library(line, settings), c15_econ_code_mapping(line, settings)])


def check_allocation(allocation: AllocationFacts, settings: Mapping) -> list[Verdict]:
    """分配 of a 待分指标: C05."""
    return _present([c05_allocation_bound(allocation, settings)])


def check_reallocation(reallocation: ReallocationFacts, settings: Mapping) -> list[Verdict]:
    """调剂: C05 (within the source's available), C09 (earmarked money keeps its project)."""
    return _present([c05_reallocation_bound(reallocation, settings),
                     c09_reallocation_keeps_earmark(reallocation, settings)])


def check_adjustment(adjustment: AdjustmentFacts, settings: Mapping) -> list[Verdict]:
    """预算调整: C08 (镇人大 approval when the total changes)."""
    return _present([c08_congress_approval(adjustment, settings)])


def check_carry_over(carry: CarryOverFacts, settings: Mapping) -> list[Verdict]:
    """结转: C13."""
    return _present([c13_carry_over(carry, settings)])


def overall(verdicts: Iterable[Verdict]) -> ControlOutcome:
    """block if any rule blocks, else warn if any warns, else pass."""
    outcomes = {v.outcome for v in verdicts}
    for outcome in (ControlOutcome.BLOCK, ControlOutcome.WARN):
        if outcome in outcomes:
            return outcome
    return ControlOutcome.PASS
