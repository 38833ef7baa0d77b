"""The indicator ledger (指标账): double-entry accounts per indicator and the transfers between them.

Every movement is one transfer: debit one account, credit another, same amount, a unique
idempotency key. Balances are debits minus credits; only the source accounts (指标来源, 计划来源)
run negative. The database refuses a negative balance anywhere else, so no race can overspend.
"""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models.types import BigId, Money, UtcDateTime


class AccountKind(StrEnum):
    SOURCE = "source"  # 指标来源 (per township and year; credit balance)
    UNALLOCATED = "unallocated"  # 待分指标
    EXECUTABLE = "executable"  # 可执行指标
    FROZEN = "frozen"  # 冻结
    IN_FLIGHT = "in_flight"  # 在途支付
    PAID = "paid"  # 已支付
    CARRIED = "carried"  # 结转 (to next year)
    PLAN_SOURCE = "plan_source"  # 计划来源 (per indicator and month; credit balance)
    PLAN_AVAILABLE = "plan_available"  # 用款计划可用
    PLAN_IN_FLIGHT = "plan_in_flight"
    PLAN_USED = "plan_used"


CREDIT_SIDE = (AccountKind.SOURCE, AccountKind.PLAN_SOURCE)


class LedgerAccount(Base):
    __tablename__ = "ledger_account"
    # One account per (township, year, kind) pool, per (indicator, kind), per (indicator, kind, month):
    # partial unique indexes, because a plain unique constraint lets NULLs repeat.
    __table_args__ = (
        CheckConstraint("kind IN ('source', 'plan_source') OR balance >= 0", name="balance_not_negative"),
        Index("uq_ledger_account_pool", "township_id", "fiscal_year", "kind", unique=True,
              postgresql_where=text("indicator_id IS NULL"), sqlite_where=text("indicator_id IS NULL")),
        Index("uq_ledger_account_indicator", "indicator_id", "kind", unique=True,
              postgresql_where=text("indicator_id IS NOT NULL AND month IS NULL"),
              sqlite_where=text("indicator_id IS NOT NULL AND month IS NULL")),
        Index("ix_ledger_account_township_year", "township_id", "fiscal_year"),  # township balances, trial balance
        Index("uq_ledger_account_plan", "indicator_id", "kind", "month", unique=True,
              postgresql_where=text("month IS NOT NULL"), sqlite_where=text("month IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    township_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))  # None for SOURCE
    kind: Mapped[str] = mapped_column(String(16))
    month: Mapped[date | None] = mapped_column(Date)  # plan accounts only
    balance: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))


class TransferKind(StrEnum):
    REGISTER = "register"  # 指标来源登记: 待分 <- 来源
    ALLOCATE = "allocate"  # 分配/下达: 可执行 <- 待分
    FREEZE = "freeze"
    UNFREEZE = "unfreeze"
    REALLOCATE = "reallocate"  # 调剂: 可执行[target] <- 可执行[source]
    ADJUST = "adjust"  # 调整: 可执行 <-> 来源 (total changes)
    RESERVE = "reserve"  # 支付占用: 在途 <- 可执行
    POST = "post"  # 支付成功: 已支付 <- 在途
    VOID = "void"  # 退回/作废: 可执行 <- 在途
    RETURN = "return"  # 退票 after payment: 可执行 <- 已支付
    CARRY_OVER = "carry_over"  # 年末结转: 结转 <- 可执行
    RECALL = "recall"  # 收回: 来源 <- 可执行
    PLAN_GRANT = "plan_grant"  # 用款计划批复: 计划可用 <- 计划来源
    PLAN_RESERVE = "plan_reserve"
    PLAN_POST = "plan_post"
    PLAN_VOID = "plan_void"
    PLAN_RETURN = "plan_return"


class LedgerTransfer(Base):
    __tablename__ = "ledger_transfer"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    debit_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_account.id"), index=True)
    credit_account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    instance_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("process_instance.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payment.id"), index=True)
    memo: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
