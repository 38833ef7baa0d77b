"""What the task and request pages show of a request besides its form: the form's fields as a readable
sheet, the control rules' results, the indicator's balances, the tier and why, and the payment.

Service-task results sit in the process data under the names the diagrams give them (`controls`,
`payment`, `reservation`, `route`…). Each has a presenter in PRESENTERS, or is hidden: a key no form
declares and no presenter knows is never shown, so no JSON and no English key reaches a page.
"""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app import ledger
from app.models import BankBatch, ControlOutcome, Indicator, Payment, PaymentStatus, Project, RefCode, RefKind
from app.models.accounting import Voucher
from app.web.filters import to_decimal, yuan

# The rules' names as docs/domain.md §4 gives them.
RULE_NAMES = {
    "C01": "无预算不支出", "C02": "先有项目后有预算", "C03": "支付不得超过可用指标", "C04": "不得超用款计划",
    "C05": "分配不超过可分额度", "C06": "冻结额度不可支付", "C07": "按科目执行", "C08": "预算调整须人大批准",
    "C09": "专项资金专款专用", "C10": "政府采购控制", "C11": "公务卡强制结算", "C12": "“三公”经费控制",
    "C13": "结转结余", "C14": "现金限额", "C15": "经济分类对应", "C16": "“三保”优先", "C17": "不相容岗位分离",
    "C18": "集体决策事项", "C19": "资金拨付凭据",
}
OUTCOME_WORDS = {ControlOutcome.PASS: "通过", ControlOutcome.WARN: "提醒", ControlOutcome.BLOCK: "不通过"}
# Evidence a reader can use, by label; what is not listed (ids, flags, nested lists) stays out.
EVIDENCE = {
    "indicator": ("指标", "text"), "amount": ("支付金额", "money"), "total": ("额度", "money"),
    "used": ("已用", "money"), "reserved": ("在途", "money"), "frozen": ("冻结", "money"),
    "available": ("可用", "money"), "plan_month": ("计划月份", "text"), "plan_available": ("计划可用", "money"),
    "econ_dept_code": ("经济分类", "text"), "spent_this_year": ("本年已支", "money"), "after": ("含本笔", "money"),
    "budget": ("年度预算", "money"), "per_payment": ("单笔限额", "money"), "month_total": ("本月现金", "money"),
    "purpose_cumulative": ("累计金额", "money"), "threshold": ("标准", "money"),
    "contract_amount": ("合同金额", "money"), "cumulative": ("累计支付", "money"),
    "invoice_count": ("发票张数", "text"), "attachments": ("附件数", "text"),
}
PAYMENT_STATUS_WORDS = {PaymentStatus.DRAFT: "已登记", PaymentStatus.RESERVED: "已占用额度（在途）",
                        PaymentStatus.SUBMITTED: "已提交银行，等待回单", PaymentStatus.PAID: "已支付",
                        PaymentStatus.RETURNED: "已退票", PaymentStatus.VOID: "已作废，额度已释放"}
# Code fields of the forms and the table that names them.
CODE_KINDS = {"func_code": RefKind.FUNCTION, "econ_dept_code": RefKind.ECON_DEPT, "econ_gov_code": RefKind.ECON_GOV,
              "fund_nature_code": RefKind.FUND_NATURE, "category_code": RefKind.PROJECT_CATEGORY}


@dataclass
class Panel:
    """A titled list of (label, text) rows, shown as a card."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    id: str = ""


@dataclass
class Names:
    """Names for the codes a sheet shows: (kind, code) -> name; kind "indicator" and "project" too."""

    known: dict[tuple[str, str], str] = field(default_factory=dict)

    def of(self, name: str, prop: dict, code) -> str | None:
        kind = _code_kind(name, prop)
        return self.known.get((kind, str(code))) if kind else None


def _code_kind(name: str, prop: dict) -> str | None:
    widget = prop.get("x-widget")
    if widget in ("indicator", "project"):
        return widget
    if name in ("indicator_code", "project_code"):
        return name.removesuffix("_code")
    return CODE_KINDS.get(name) or (prop.get("x-refkind") if widget == "refcode" else None)


def _codes_in(data: dict, properties: dict[str, dict]):
    for name, value in data.items():
        prop = properties.get(name) or {}
        item = prop.get("items") if isinstance(value, list) else None
        if isinstance(item, dict) and isinstance(item.get("properties"), dict):
            for row in value:
                if isinstance(row, dict):
                    yield from _codes_in(row, item["properties"])
        elif (kind := _code_kind(name, prop)) and isinstance(value, str | int) and value != "":
            yield kind, str(value)


def code_names(session: Session, data: dict | list[dict], properties: dict[str, dict]) -> Names:
    """One query per table for every code the data (or several data) holds: a few per page."""
    wanted: dict[str, set[str]] = {}
    for one in data if isinstance(data, list) else [data]:
        for kind, code in _codes_in(one, properties):
            wanted.setdefault(kind, set()).add(code)
    known: dict[tuple[str, str], str] = {}
    if codes := wanted.pop("indicator", None):
        rows = session.execute(select(Indicator.code, Project.name).join(Project, Indicator.project_id == Project.id)
                               .where(Indicator.code.in_(codes)))
        known |= {("indicator", c): n for c, n in rows}
    if codes := wanted.pop("project", None):
        known |= {("project", c): n for c, n in session.execute(
            select(Project.code, Project.name).where(Project.code.in_(codes)))}
    for kind, codes in wanted.items():
        known |= {(kind, c): n for c, n in session.execute(
            select(RefCode.code, RefCode.name).where(RefCode.kind == kind, RefCode.code.in_(codes)))}
    return Names(known)


def field_text(name: str, value, prop: dict, names: Names) -> str:
    """One value as a reader sees it: labels for choices, yuan for money, a code with its name."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if "enum" in prop and value in prop["enum"]:
        labels = prop.get("x-enum-labels") or []
        index = prop["enum"].index(value)
        return str(labels[index]) if index < len(labels) else str(value)
    if prop.get("format") == "money" and to_decimal(value) is not None:
        return yuan(value)
    if isinstance(value, list):
        return "、".join(field_text(name, v, prop.get("items") or {}, names) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{label}：{text}" for label, text in sheet(value, prop.get("properties") or {}, names))
    named = names.of(name, prop, value)
    return f"{value}（{named}）" if named else str(value)


def sheet(data: dict | None, properties: dict[str, dict], names: Names | None = None) -> list[tuple[str, str]]:
    """(label, text) for each form field the data holds, in the forms' order; a list of rows (预算申报 lines,
    plan months) one row each. Keys no form declares are left out: presenters show those, or nobody."""
    data, names = data or {}, names or Names()
    rows = []
    for name, prop in properties.items():
        if name not in data or not isinstance(prop, dict):
            continue
        label, value = str(prop.get("title") or name), data[name]
        item = prop.get("items") or {}
        if isinstance(value, list) and value and isinstance(item.get("properties"), dict):
            rows += [(f"{label} 第 {n} 行", field_text(name, row, item, names)) for n, row in enumerate(value, 1)]
        else:
            rows.append((label, field_text(name, value, prop, names)))
    return rows


# ------------------------------------------------------------------------------- control results


@dataclass
class ControlRow:
    rule: str
    name: str
    outcome: str  # pass / warn / block, for the colour
    word: str
    message: str
    evidence: list[tuple[str, str]]
    source: str


def _evidence(evidence: dict | None) -> list[tuple[str, str]]:
    rows = []
    for key, (label, kind) in EVIDENCE.items():
        value = (evidence or {}).get(key)
        if value is None or isinstance(value, dict | list):
            continue
        rows.append((label, yuan(value) if kind == "money" else ("是" if value is True else "否")
                     if isinstance(value, bool) else str(value)))
    return rows


def control_rows(results: list[dict]) -> list[ControlRow]:
    """The latest verdict of each rule (app/inbox/detail.py control_results): blocks first, then warnings."""
    order = {ControlOutcome.BLOCK: 0, ControlOutcome.WARN: 1, ControlOutcome.PASS: 2}
    rows = [ControlRow(r["rule"], RULE_NAMES.get(r["rule"], "控制规则"), r["outcome"],
                       OUTCOME_WORDS.get(r["outcome"], "—"), r["message"], _evidence(r.get("evidence")),
                       r.get("source") or "") for r in results]
    return sorted(rows, key=lambda r: (order.get(r.outcome, 3), r.rule))


def controls_summary(rows: list[ControlRow]) -> str:
    """"控制规则检查通过（2 项提醒）" and the like."""
    blocks = sum(r.outcome == ControlOutcome.BLOCK for r in rows)
    warns = sum(r.outcome == ControlOutcome.WARN for r in rows)
    head = f"控制规则检查：{blocks} 项不通过" if blocks else "控制规则检查通过"
    return head + (f"（{warns} 项提醒）" if warns else "")


# --------------------------------------------------------------------------- indicator and payment


def indicator_panel(session: Session, indicator: Indicator | None) -> Panel | None:
    """The indicator with 额度 / 已用 / 在途 / 冻结 / 可用 (可用 = 额度 − 已用 − 在途 − 冻结)."""
    if indicator is None:
        return None
    b = ledger.balances(session, indicator.id)
    rows = [("指标", f"{indicator.code}（{indicator.project.name}）"), ("额度", yuan(b.allotted)),
            ("已用", yuan(b.paid)), ("在途", yuan(b.in_flight))]
    if b.frozen:
        rows.append(("冻结", yuan(b.frozen)))
    rows.append(("可用", yuan(b.available)))
    return Panel("预算指标", rows, "indicator")


def request_indicator(session: Session, payment: Payment | None, org_id: int, data: dict) -> Indicator | None:
    """The indicator the request spends: its payment's, else the one its form names (in its unit)."""
    code = data.get("indicator_code")
    if payment is None and (not isinstance(code, str) or not code):
        return None
    found = Indicator.id == payment.indicator_id if payment is not None else \
        (Indicator.code == code) & (Indicator.org_id == org_id)
    return session.scalar(select(Indicator).options(joinedload(Indicator.project)).where(found))


def payment_panel(session: Session, request: int | Payment | None) -> Panel | None:
    """The payment as the treasury and the applicant follow it: status, tier, bank reference, batch, vouchers.
    `request`: the payment when the caller has read it, else the request's id (None: no payment)."""
    payment = request if isinstance(request, Payment) or request is None else \
        session.scalar(select(Payment).where(Payment.instance_id == request))
    if payment is None:
        return None
    rows = [("支付状态", PAYMENT_STATUS_WORDS.get(payment.status, "—")), ("支付金额", yuan(payment.amount)),
            ("收款人", payment.payee_name)]
    if payment.tier:
        rows.append(("审批档次", payment.tier))
    if payment.bank_ref:
        rows.append(("银行流水号", payment.bank_ref))
    if payment.batch_id and (batch := session.get(BankBatch, payment.batch_id)):
        rows.append(("支付批次", batch.number))
    vouchers = session.scalars(select(Voucher.number).where(Voucher.payment_id == payment.id).order_by(Voucher.id))
    if numbers := list(vouchers):
        rows.append(("会计凭证", "、".join(numbers)))
    if payment.return_reason:
        rows.append(("退票原因", payment.return_reason))
    return Panel("支付", rows, "payment")


# ------------------------------------------------------------------- presenters of service-task data


def _route(value: dict) -> Panel | None:
    """payment.route (tier, tier_rank, three_public, cumulative, thresholds) or adjustment.route."""
    if "tier" in value:
        return Panel("审批档次", [("档次", str(value["tier"])), ("原因", tier_reason(value))], "route")
    if "collective" in value:
        why = (f"调整金额 {yuan(value.get('total'))}，{'达到' if value['collective'] else '未达'}集体决策标准 "
               f"{yuan(value.get('threshold'))}")
        return Panel("审批路径", [("集体决策", "需要" if value["collective"] else "不需要"), ("原因", why)], "route")
    return None


def tier_reason(route: dict) -> str:
    """Why the payment is at its tier, from what payment.route found."""
    thresholds, rank = route.get("thresholds") or {}, int(route.get("tier_rank") or 0)
    cumulative = to_decimal(route.get("cumulative"))
    parts = [f"同一合同（或同一项目、经济分类）本年累计 {yuan(cumulative)}"]
    bound = to_decimal(thresholds.get(f"t{max(rank, 1)}"))
    if rank == 0 and bound is not None:
        parts.append(f"低于 T1 档标准 {yuan(bound)}")
    elif bound is not None and cumulative is not None and cumulative >= bound:
        parts.append(f"达到 {route.get('tier')} 档标准 {yuan(bound)}")
    elif rank == 3:
        parts.append("属“三重一大”事项或大额资金、大额合同，列为 T3，须党委会集体决策")
    if route.get("three_public"):
        parts.append("属“三公”经费，须分管财政领导和镇长审批")
    return "；".join(parts)


def _summary_of(title: str, labels: dict[str, tuple[str, str]]):
    """A presenter showing the listed keys of a result, money as yuan."""
    def present(value: dict) -> Panel | None:
        rows = [(label, yuan(value[key]) if kind == "money" else str(value[key]))
                for key, (label, kind) in labels.items() if value.get(key) not in (None, "", [])]
        return Panel(title, rows) if rows else None
    return present


def _hidden(value) -> None:
    return None


PRESENTERS = {
    # Shown elsewhere on the page (control list, indicator and payment cards) or bookkeeping of the steps.
    "controls": _hidden, "payment": _hidden, "reservation": _hidden, "posting": _hidden, "release": _hidden,
    "bank_submission": _hidden, "bank": _hidden, "vouchers": _hidden, "reminder": _hidden, "escalation": _hidden,
    "project": _hidden, "library": _hidden, "executed": _hidden, "released": _hidden,
    "route": _route,
    "control": _summary_of("控制数", {"total": ("申报合计", "money"), "control": ("控制数", "money")}),
    "declared": _summary_of("申报汇总", {"total": ("申报合计", "money"), "lines": ("行数", "text")}),
    "adjustment": _summary_of("调剂/调整汇总", {"total": ("合计", "money"), "lines": ("行数", "text")}),
    "plan": _summary_of("用款计划汇总", {"month": ("月份", "text"), "total": ("合计", "money"),
                                        "lines": ("行数", "text")}),
    "granted": _summary_of("用款计划批复", {"approved": ("批复金额", "money"), "lines": ("行数", "text")}),
}


def service_panels(data: dict | None) -> list[Panel]:
    """The panels of the service results in the data, in the presenters' order; unknown keys are hidden."""
    panels = []
    for key, present in PRESENTERS.items():
        value = (data or {}).get(key)
        if isinstance(value, dict) and (panel := present(value)) is not None:
            panels.append(panel)
    return panels

