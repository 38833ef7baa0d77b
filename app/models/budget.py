"""The budget domain's records: projects, budget lines, indicators, fund plans, adjustments, payments.

Project first, then budget, then spending (先有项目、再有预算、后有支出): a budget line needs a project
in the library (C02), an indicator comes from an approved line, and a payment spends an indicator.
Amounts live here as declared; what an indicator has left lives in the ledger (app/ledger).
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.org import Org
from app.models.types import BigId, Money, UtcDateTime


class UnitType(StrEnum):
    """Which voucher pairs a unit's payments take (政府会计制度)."""

    ADMINISTRATIVE = "administrative"  # 行政单位: 5001 业务活动费用 / 7101 行政支出
    INSTITUTION = "institution"  # 事业单位: 5001 or 5101 单位管理费用 / 7201 事业支出


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    REVIEWING = "reviewing"  # 已送审
    IN_LIBRARY = "in_library"  # 已入库
    REJECTED = "rejected"  # 被退回/未通过
    CLOSED = "closed"


class Project(Base):
    """A project in the library (项目库): what a budget line must belong to."""

    __tablename__ = "project"
    __table_args__ = (Index("ix_project_org_status", "org_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))  # the unit that owns it
    township_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    category_code: Mapped[str] = mapped_column(String(32))  # 项目类别
    start_year: Mapped[int] = mapped_column(Integer)
    end_year: Mapped[int] = mapped_column(Integer)
    total_amount: Mapped[Decimal] = mapped_column(Money())
    # 绩效目标: [{"kind": "产出指标"/"效益指标"/"满意度指标", "name": 指标名称, "target": 目标值}]
    goals: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.DRAFT)
    instance_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("process_instance.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    org: Mapped[Org] = relationship(foreign_keys=[org_id])


class LineStatus(StrEnum):
    DECLARED = "declared"
    APPROVED = "approved"  # 批复: became an indicator
    REJECTED = "rejected"


class BudgetLine(Base):
    """One line of a budget declaration (预算申报) or adjustment: a project with its codes and amount."""

    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))  # C02: no line without a project
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    func_code: Mapped[str] = mapped_column(String(32))
    econ_dept_code: Mapped[str] = mapped_column(String(32))
    econ_gov_code: Mapped[str] = mapped_column(String(32))
    fund_nature_code: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money())
    earmarked: Mapped[bool] = mapped_column(Boolean, default=False)  # 专项/直达 (C09)
    plan_controlled: Mapped[bool] = mapped_column(Boolean, default=False)  # 按用款计划控制 (C04)
    status: Mapped[str] = mapped_column(String(16), default=LineStatus.DECLARED)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))

    project: Mapped[Project] = relationship()


class IndicatorSource(StrEnum):
    ANNUAL = "annual"  # 年初预算
    ADDITION = "addition"  # 预算追加（调整）
    REALLOCATION = "reallocation"  # 预算调剂
    CARRY_OVER = "carry_over"  # 上年结转


class Indicator(Base):
    """A budget indicator (预算指标): an approved amount for one unit, project and set of codes."""

    __tablename__ = "indicator"
    __table_args__ = (Index("ix_indicator_township_year", "township_id", "fiscal_year"),
                      Index("ix_indicator_org_year", "org_id", "fiscal_year"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # BGT_ID
    fiscal_year: Mapped[int] = mapped_column(Integer)
    township_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    func_code: Mapped[str] = mapped_column(String(32))
    econ_dept_code: Mapped[str] = mapped_column(String(32))
    econ_gov_code: Mapped[str] = mapped_column(String(32))
    fund_nature_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16), default=IndicatorSource.ANNUAL)
    doc_no: Mapped[str | None] = mapped_column(String(100))  # 指标文号
    amount: Mapped[Decimal] = mapped_column(Money())  # as registered; balances are in the ledger
    earmarked: Mapped[bool] = mapped_column(Boolean, default=False)  # 专项/直达资金 (C09)
    plan_controlled: Mapped[bool] = mapped_column(Boolean, default=False)  # (C04)
    three_guarantees: Mapped[bool] = mapped_column(Boolean, default=False)  # 三保 (C16)
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))
    instance_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("process_instance.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    org: Mapped[Org] = relationship(foreign_keys=[org_id])
    project: Mapped[Project] = relationship()


class FundPlanLine(Base):
    """One indicator's line in a unit's monthly fund-use plan (用款计划)."""

    __tablename__ = "fund_plan_line"
    __table_args__ = (Index("ix_fund_plan_line_indicator_month", "indicator_id", "month"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    month: Mapped[date] = mapped_column(Date)  # first day of the month
    applied_amount: Mapped[Decimal] = mapped_column(Money())
    approved_amount: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied / approved / rejected


class AdjustmentKind(StrEnum):
    REALLOCATION = "reallocation"  # 调剂: total unchanged
    ADJUSTMENT = "adjustment"  # 调整: total changes, needs 镇人大


class AdjustmentLine(Base):
    """A movement in a budget reallocation (from one indicator to another) or adjustment (+/-)."""

    __tablename__ = "adjustment_line"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))
    to_indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))
    budget_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("budget_line.id"))  # a new indicator
    amount: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16), default="declared")  # declared / executed / rejected


class PaymentStatus(StrEnum):
    DRAFT = "draft"
    RESERVED = "reserved"  # indicator amount held (在途)
    SUBMITTED = "submitted"  # sent to the bank
    PAID = "paid"
    RETURNED = "returned"  # the bank sent it back (退票): reversed and released
    VOID = "void"  # rejected, withdrawn or abandoned: reservation released


class Payment(Base):
    """A payment request (支付申请) and what became of it."""

    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_indicator_status", "indicator_id", "status"),
                      Index("ix_payment_contract", "contract_no"),
                      Index("ix_payment_purpose", "org_id", "purpose_key"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    township_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Money())
    purpose: Mapped[str] = mapped_column(String(200))  # 用途
    purpose_key: Mapped[str] = mapped_column(String(100))  # groups payments for the cumulative tier
    func_code: Mapped[str] = mapped_column(String(32))
    econ_dept_code: Mapped[str] = mapped_column(String(32))
    payee_name: Mapped[str] = mapped_column(String(200))
    payee_account: Mapped[str] = mapped_column(String(64))
    payee_bank: Mapped[str] = mapped_column(String(200))
    payee_is_person: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_no: Mapped[str | None] = mapped_column(String(64))
    settle_mode: Mapped[str] = mapped_column(String(16), default="transfer")  # transfer / cash / card
    expense_nature: Mapped[str] = mapped_column(String(16), default="business")  # business / management
    tier: Mapped[str | None] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.DRAFT)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("bank_batch.id"))
    bank_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    return_reason: Mapped[str | None] = mapped_column(String(200))

    indicator: Mapped[Indicator] = relationship()


class BankBatch(Base):
    """A batch of payments handed to the agent bank, with the file that went with it."""

    __tablename__ = "bank_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    bank: Mapped[str] = mapped_column(String(32))  # the adapter that took it
    file_name: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TownshipSettings(Base):
    """Per-township thresholds and switches for control rules and tier routing (an admin edits them)."""

    __tablename__ = "township_settings"

    township_id: Mapped[int] = mapped_column(ForeignKey("org.id"), primary_key=True)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class ControlOutcome(StrEnum):
    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"


class ControlResult(Base):
    """A control rule's verdict on a request, kept with it and shown on every later task."""

    __tablename__ = "control_result"
    __table_args__ = (UniqueConstraint("instance_id", "check_key", "rule"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    check_key: Mapped[str] = mapped_column(String(80))  # the service call that checked (idempotency key)
    rule: Mapped[str] = mapped_column(String(8))  # C01..C19
    outcome: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime())
