"""The budget domain's service operators by the names BPMN service tasks use, and its hooks.

Each runs in the transaction of the step that reached it (in a savepoint, app/processes/operators.py)
and is idempotent per instance + task: ledger movements are keyed by the call, rows are rewritten.
"""
from functools import partial

from app.approvals.hooks import Hooks
from app.bank import Bank
from app.budget import adjustments, checks, declarations, fund_plans, payments, projects


def budget_operators(bank: Bank) -> dict:
    return {
        "project.register": projects.register_project,
        "project.accept": projects.accept_project,
        "budget.record_lines": declarations.record_lines,
        "budget.compare_control": declarations.compare_control,
        "ledger.allocate": declarations.approve_lines,  # 批复下达: approved lines become indicators
        "adjustment.record": adjustments.record_adjustment,
        "adjustment.route": adjustments.route_adjustment,
        "adjustment.execute": adjustments.execute_adjustment,
        "fund_plan.record": fund_plans.record_plan,
        "fund_plan.reserve": fund_plans.approve_plan,
        "payment.record": payments.record_payment,
        "payment.route": payments.route_payment,
        "controls.check_payment": checks.check_payment,
        "ledger.reserve": payments.reserve_payment,
        "ledger.post": payments.post_payment,
        "ledger.void": payments.void_payment,
        "accounting.post_vouchers": payments.post_vouchers,
        "bank.submit": partial(payments.submit_to_bank, bank=bank),
    }


def register_hooks(hooks: Hooks) -> None:
    """What a request ending badly, or sent back, gives back: reservations, holds, project and line status."""
    for module in (payments, adjustments):
        hooks.on_closed(module.on_closed)
        hooks.on_rewound(module.on_rewound)
    for module in (projects, declarations, fund_plans):
        hooks.on_closed(module.on_closed)
