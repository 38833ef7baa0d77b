"""Request and response shapes of the budget read side (projects, indicators, balances, payments, trial
balances) and of the bank's callback. Inputs refuse unknown fields; money is a decimal string of yuan."""
from marshmallow import Schema, fields, validate

from app.api.schemas import MoneyText, OrgRef, PageOf
from app.ledger import TRANSFER_NAMES
from app.models import AccountKind, IndicatorSource, PaymentStatus, ProjectStatus, TransferKind

YEARS = validate.Range(min=2000, max=2100)


money = MoneyText  # money("可用") is a decimal string of yuan, documented as such


class PagingArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


# --- projects -------------------------------------------------------------------------------------------

class ProjectListArgs(PagingArgs):
    status = fields.String(validate=validate.OneOf([s.value for s in ProjectStatus]),
                           metadata={"description": "draft 草稿、reviewing 已送审、in_library 已入库、rejected 未通过、"
                                                    "closed 已关闭"})
    org = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "单位代码"})
    year = fields.Integer(validate=YEARS, metadata={"description": "实施期包含这一年度的项目"})
    q = fields.String(validate=validate.Length(max=100), metadata={"description": "项目名称或编码包含的文字"})


class ProjectRef(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ProjectOut(ProjectRef):
    org = fields.Nested(OrgRef, metadata={"description": "项目所属单位"})
    category_code = fields.String(metadata={"description": "项目类别"})
    start_year = fields.Integer()
    end_year = fields.Integer()
    total_amount = money("项目总额")
    status = fields.String(metadata={"enum": [s.value for s in ProjectStatus]})
    instance_id = fields.Integer(allow_none=True, metadata={"description": "项目入库申请"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProjectPage(PageOf):
    items = fields.List(fields.Nested(ProjectOut))


class GoalOut(Schema):
    goal = fields.String(allow_none=True, metadata={"description": "绩效目标"})
    indicator = fields.String(allow_none=True, metadata={"description": "绩效指标"})
    target = fields.Raw(allow_none=True, metadata={"description": "指标值"})
    unit = fields.String(allow_none=True, metadata={"description": "计量单位"})


class BudgetLineOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer(metadata={"description": "所在的预算申报或调整申请"})
    fiscal_year = fields.Integer()
    func_code = fields.String(metadata={"description": "支出功能分类"})
    econ_dept_code = fields.String(metadata={"description": "部门预算经济分类"})
    econ_gov_code = fields.String(metadata={"description": "政府预算经济分类"})
    fund_nature_code = fields.String(metadata={"description": "资金性质"})
    amount = money("申报金额")
    earmarked = fields.Boolean(metadata={"description": "专项/直达资金"})
    plan_controlled = fields.Boolean(metadata={"description": "按用款计划控制"})
    status = fields.String(metadata={"enum": ["declared", "approved", "rejected"]})
    indicator_id = fields.Integer(allow_none=True, metadata={"description": "批复后形成的指标"})


# --- indicators and balances ---------------------------------------------------------------------------

class BalancesOut(Schema):
    allotted = money("额度：可用 + 冻结 + 在途 + 已支付")
    used = money("已用：已支付 + 在途")
    paid = money("已支付")
    in_flight = money("在途：已占用、尚未支付")
    frozen = money("冻结")
    available = money("可用 = 额度 − 已用 − 冻结")
    unallocated = money("待分（已登记、尚未分配）")
    carried = money("已结转到下年")


class IndicatorListArgs(PagingArgs):
    year = fields.Integer(validate=YEARS, metadata={"description": "预算年度"})
    org = fields.String(validate=validate.Length(min=1, max=32), metadata={"description": "单位代码"})
    project = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "项目编码"})
    code = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "指标编码（前缀）"})


class IndicatorOut(Schema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "指标编码"})
    fiscal_year = fields.Integer()
    org = fields.Nested(OrgRef, metadata={"description": "指标所属单位"})
    project = fields.Nested(ProjectRef)
    func_code = fields.String(metadata={"description": "支出功能分类"})
    econ_dept_code = fields.String(metadata={"description": "部门预算经济分类"})
    econ_gov_code = fields.String(metadata={"description": "政府预算经济分类"})
    fund_nature_code = fields.String(metadata={"description": "资金性质"})
    source = fields.String(metadata={"enum": [s.value for s in IndicatorSource],
                                      "description": "annual 年初预算、addition 追加、reallocation 调剂、"
                                                     "carry_over 上年结转"})
    doc_no = fields.String(allow_none=True, metadata={"description": "指标文号"})
    amount = money("登记金额（余额以 balances 为准）")
    earmarked = fields.Boolean(metadata={"description": "专项/直达资金"})
    plan_controlled = fields.Boolean(metadata={"description": "按用款计划控制"})
    three_guarantees = fields.Boolean(metadata={"description": "三保支出"})
    carried_from_id = fields.Integer(allow_none=True, metadata={"description": "由上年哪个指标结转而来"})
    created_at = fields.DateTime()
    balances = fields.Nested(BalancesOut)


class IndicatorPage(PageOf):
    items = fields.List(fields.Nested(IndicatorOut))


class PlanMonthOut(Schema):
    month = fields.String(metadata={"description": "月份，YYYY-MM"})
    granted = money("批复的用款计划")
    available = money("计划可用")
    in_flight = money("计划在途")
    used = money("计划已用")


class AccountOut(Schema):
    kind = fields.String(metadata={"enum": [k.value for k in AccountKind]})
    kind_name = fields.String(metadata={"description": "如“可执行指标”“在途支付”"})
    indicator_id = fields.Integer(allow_none=True, metadata={"description": "指标来源账户为 null"})
    month = fields.String(allow_none=True, metadata={"description": "用款计划账户的月份，YYYY-MM"})


class MovementOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": [k.value for k in TransferKind],
                                    "description": "、".join(f"{k.value} {n}" for k, n in TRANSFER_NAMES.items())})
    kind_name = fields.String()
    amount = money()
    debit = fields.Nested(AccountOut, metadata={"description": "借方（增加的账户）"})
    credit = fields.Nested(AccountOut, metadata={"description": "贷方（减少的账户）"})
    instance_id = fields.Integer(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    memo = fields.String(allow_none=True)
    created_at = fields.DateTime()


class IndicatorDetail(IndicatorOut):
    plans = fields.List(fields.Nested(PlanMonthOut), metadata={"description": "各月用款计划余额"})
    movements = fields.List(fields.Nested(MovementOut), metadata={"description": "指标账流水，按先后"})


class ProjectDetail(ProjectOut):
    description = fields.String(allow_none=True)
    goals = fields.List(fields.Nested(GoalOut), metadata={"description": "绩效目标"})
    lines = fields.List(fields.Nested(BudgetLineOut), metadata={"description": "预算申报（调整）明细"})
    indicators = fields.List(fields.Nested(IndicatorOut), metadata={"description": "项目的预算指标及余额"})


class BalanceArgs(Schema):
    level = fields.String(load_default="unit", validate=validate.OneOf(["unit", "township"]),
                          metadata={"description": "unit 单位合计、township 全镇合计"})
    org = fields.String(validate=validate.Length(min=1, max=32),
                        metadata={"description": "单位或乡镇代码；不填为你所在的单位（乡镇）"})
    year = fields.Integer(validate=YEARS, metadata={"description": "预算年度；不填为今年"})


class BalanceSummary(Schema):
    level = fields.String(metadata={"enum": ["unit", "township"]})
    org = fields.Nested(OrgRef)
    fiscal_year = fields.Integer()
    balances = fields.Nested(BalancesOut)


# --- payments --------------------------------------------------------------------------------------------

class VoucherRef(Schema):
    number = fields.String(metadata={"description": "凭证号，如 记-2026-NYB-000123"})
    kind = fields.String(metadata={"enum": ["payment", "reversal"], "description": "payment 记账、reversal 红字冲销"})
    voucher_date = fields.Date()


class BatchRef(Schema):
    id = fields.Integer()
    number = fields.String()
    file_name = fields.String()


class IndicatorRef(Schema):
    id = fields.Integer()
    code = fields.String()


class PaymentOut(Schema):
    id = fields.Integer()
    instance_id = fields.Integer()
    status = fields.String(metadata={
        "enum": [s.value for s in PaymentStatus],
        "description": "draft 草稿、reserved 已占用额度、submitted 已提交银行、paid 已支付、returned 被退回（退票）、"
                       "void 已作废"})
    amount = money("支付金额")
    tier = fields.String(allow_none=True, metadata={"description": "审批档次 T0-T3"})
    bank_ref = fields.String(allow_none=True, metadata={"description": "提交银行的业务编号"})
    batch = fields.Nested(BatchRef, allow_none=True)
    vouchers = fields.List(fields.Nested(VoucherRef), metadata={"description": "记账凭证（含冲销凭证）"})
    org = fields.Nested(OrgRef)
    indicator = fields.Nested(IndicatorRef)
    fiscal_year = fields.Integer()
    purpose = fields.String()
    payee_name = fields.String()
    payee_account = fields.String()
    payee_bank = fields.String()
    payee_is_person = fields.Boolean()
    contract_no = fields.String(allow_none=True)
    settle_mode = fields.String(metadata={"enum": ["transfer", "cash", "card"]})
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)
    return_reason = fields.String(allow_none=True)


# --- trial balances --------------------------------------------------------------------------------------

class TrialBalanceArgs(Schema):
    township = fields.String(validate=validate.Length(min=1, max=32),
                             metadata={"description": "乡镇代码；不填为你所在的乡镇"})
    year = fields.Integer(validate=YEARS, metadata={"description": "年度；不填为今年"})


class GlRowOut(Schema):
    code = fields.String(metadata={"description": "会计科目编码"})
    name = fields.String()
    side = fields.String(metadata={"enum": ["financial", "budget"],
                                   "description": "financial 财务会计、budget 预算会计"})
    category = fields.String()
    normal_balance = fields.String(metadata={"enum": ["debit", "credit"]})
    opening = money("年初余额")
    debit = money("本年借方")
    credit = money("本年贷方")
    balance = money("期末余额（按科目余额方向）")


class SideTotalsOut(Schema):
    debit = money("借方合计")
    credit = money("贷方合计")
    balanced = fields.Boolean(metadata={"description": "借贷相等"})


class AccountingTrialBalanceOut(Schema):
    rows = fields.List(fields.Nested(GlRowOut))
    totals = fields.Dict(keys=fields.String(), values=fields.Nested(SideTotalsOut),
                         metadata={"description": "按账套（financial、budget）的借贷合计"})
    total_debit = money("借方合计")
    total_credit = money("贷方合计")
    balanced = fields.Boolean(metadata={"description": "各账套及总计借贷相等"})


class LedgerRowOut(Schema):
    kind = fields.String(metadata={"description": "指标账账户类别；total 为合计"})
    kind_name = fields.String()
    debits = money("借方发生额")
    credits = money("贷方发生额")
    balance = money("账户余额（借方为正；指标来源、计划来源为负）")


class LedgerTrialBalanceOut(Schema):
    rows = fields.List(fields.Nested(LedgerRowOut))
    total = fields.Nested(LedgerRowOut)
    balanced = fields.Boolean(metadata={"description": "借贷合计相等、余额合计为零，且各类余额与发生额相符"})


class TrialBalanceOut(Schema):
    township = fields.Nested(OrgRef)
    fiscal_year = fields.Integer()
    accounting = fields.Nested(AccountingTrialBalanceOut, metadata={"description": "会计科目余额表（平行记账）"})
    ledger = fields.Nested(LedgerTrialBalanceOut, metadata={"description": "指标账试算平衡"})


# --- the bank --------------------------------------------------------------------------------------------

class BankCallbackRequest(Schema):
    bank_ref = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "提交银行时的业务编号"})
    status = fields.String(required=True, validate=validate.OneOf(["paid", "returned"]),
                           metadata={"description": "paid 已支付、returned 退回（含支付后退票）"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=200),
                           metadata={"description": "退回原因"})


class BankCallbackResponse(Schema):
    bank_ref = fields.String()
    payment_id = fields.Integer()
    instance_id = fields.Integer()
    status = fields.String(metadata={"enum": [s.value for s in PaymentStatus], "description": "处理后的支付状态"})
