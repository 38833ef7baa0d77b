"""Government accounting (政府会计制度, 平行记账) for payments: the chart, vouchers, the trial balance.

Public API (no Flask; the caller's session in, flushed but never committed):
- seed_chart(session): the chart-of-accounts subset of domain.md §7.1, idempotent.
- post_payment(session, payment, *, now): the voucher of a payment confirmed paid (§7.2-A, §7.4, §7.5).
- reverse_payment(session, payment, *, now, reason): the red-ink reversal of a returned payment (退票).
- trial_balance(session, *, org_id=None, township_id=None, fiscal_year, side=None): debits, credits and
  balances per account.
Rules and numbering are described in app/accounting/posting.py.
"""
from app.accounting.chart import CHART, seed_chart
from app.accounting.errors import AccountingError
from app.accounting.posting import post_payment, reverse_payment
from app.accounting.trial_balance import SideTotals, TrialBalance, TrialBalanceRow, trial_balance

__all__ = [
    "CHART", "AccountingError", "SideTotals", "TrialBalance", "TrialBalanceRow", "post_payment", "reverse_payment",
    "seed_chart", "trial_balance",
]
