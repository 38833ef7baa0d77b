"""Government accounting vouchers (政府会计制度, 平行记账): financial and budget legs of each payment."""
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.models.types import BigId, Money, UtcDateTime


class LedgerSide(StrEnum):
    FINANCIAL = "financial"  # 财务会计 (accrual)
    BUDGET = "budget"  # 预算会计 (cash)


class GlAccount(Base):
    """A chart-of-accounts entry (会计科目)."""

    __tablename__ = "gl_account"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    side: Mapped[str] = mapped_column(String(16))  # LedgerSide
    category: Mapped[str] = mapped_column(String(24))  # asset, liability, net_assets, revenue, expense, …
    normal_balance: Mapped[str] = mapped_column(String(8))  # debit / credit


class VoucherKind(StrEnum):
    PAYMENT = "payment"
    REVERSAL = "reversal"  # 红字冲销


class Voucher(Base):
    __tablename__ = "voucher"
    __table_args__ = (
        # A payment posts one voucher and at most one reversal: the database holds posting to once.
        Index("uq_voucher_payment_kind", "payment_id", "kind", unique=True,
              postgresql_where=text("payment_id IS NOT NULL"), sqlite_where=text("payment_id IS NOT NULL")),
        Index("ix_voucher_org_year", "org_id", "fiscal_year"),  # a unit's (or township's) trial balance
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    voucher_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payment.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("voucher.id"))
    summary: Mapped[str] = mapped_column(String(200))  # 摘要
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    lines: Mapped[list["VoucherLine"]] = relationship(back_populates="voucher", order_by="VoucherLine.id")


class VoucherLine(Base):
    """One debit or credit line; a reversal's lines carry negative amounts (red ink)."""

    __tablename__ = "voucher_line"
    __table_args__ = (CheckConstraint("debit = 0 OR credit = 0", name="one_side"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    voucher_id: Mapped[int] = mapped_column(BigId, ForeignKey("voucher.id"), index=True)
    side: Mapped[str] = mapped_column(String(16))  # LedgerSide
    account_code: Mapped[str] = mapped_column(ForeignKey("gl_account.code"))
    debit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    credit: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    # Dimensions (辅助核算)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id"))
    func_code: Mapped[str | None] = mapped_column(String(32))
    econ_code: Mapped[str | None] = mapped_column(String(32))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"))
    fund_nature_code: Mapped[str | None] = mapped_column(String(32))
    indicator_id: Mapped[int | None] = mapped_column(ForeignKey("indicator.id"))

    voucher: Mapped[Voucher] = relationship(back_populates="lines")
