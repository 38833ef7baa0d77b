"""The indicator ledger (指标账): double-entry accounts per indicator, one transfer per movement.

No Flask; every function takes the session and never commits (the caller's transaction does). Each movement
checks its amount (Decimal > 0, two decimals, < 10^16), is idempotent on `key` (a replay returns the first
transfer; the same key for a different movement raises KeyReused) and runs in a SAVEPOINT, so a refusal
leaves nothing behind. Nothing but the source pools (指标来源, 计划来源) can go negative: that single check
implements C03 (支付不得超过可用), C04 (不得超用款计划), C05 (分配/调剂不超可用) and C06 (冻结不可用).

Movement keyword context: instance_id, payment_id, actor_id (-> created_by_id), memo (≤ 200 chars).
"""
from app.ledger.accounts import HOLDS, KIND_NAMES
from app.ledger.amounts import check_amount
from app.ledger.errors import InsufficientBalance, InvalidAmount, KeyReused, LedgerError
from app.ledger.posting import (
    TRANSFER_NAMES,
    adjust,
    allocate,
    carry_over,
    freeze,
    plan_grant,
    plan_post,
    plan_reserve,
    plan_return,
    plan_void,
    post,
    reallocate,
    recall,
    register,
    reserve,
    return_paid,
    unfreeze,
    void,
)
from app.ledger.queries import (
    TOTAL,
    Balances,
    TrialBalanceRow,
    balances,
    balances_many,
    movements,
    township_balances,
    trial_balance,
    unit_balances,
)

__all__ = [
    "HOLDS", "KIND_NAMES", "TOTAL", "TRANSFER_NAMES", "Balances", "InsufficientBalance", "InvalidAmount", "KeyReused",
    "LedgerError", "TrialBalanceRow", "adjust", "allocate", "balances", "balances_many", "carry_over",
    "check_amount", "freeze", "movements", "plan_grant", "plan_post", "plan_reserve", "plan_return", "plan_void",
    "post", "reallocate", "recall", "register", "reserve", "return_paid", "township_balances", "trial_balance",
    "unfreeze", "unit_balances", "void",
]
