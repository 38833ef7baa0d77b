"""The simulated bank's job: answer each payment of a batch, paid or (for a share) returned.

The answer is a job handed over after the submission commits, and a job can be lost: the worker killed
mid-answer, the web process killed between its commit and the hand-over, Redis flushed. The database
still says which payments wait, so the deadline sweep asks again for any batch left unanswered for
ANSWER_AFTER (`unanswered_batches`); answering twice is harmless, a settled payment is skipped.
"""
import hashlib
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

RETURN_REASONS = ["收款人户名与账号不符", "收款账户已销户", "收款账户冻结"]
ANSWER_AFTER = timedelta(minutes=5)  # the bank answers in seconds; this long means the answer job was lost


def verdict(bank_ref: str, return_share: float) -> tuple[str, str | None]:
    """Paid or returned, decided by the reference alone (a repeatable, evenly spread choice)."""
    digest = int(hashlib.sha256(bank_ref.encode()).hexdigest()[:8], 16)
    if (digest % 10_000) / 10_000 < return_share:
        return "returned", RETURN_REASONS[digest % len(RETURN_REASONS)]
    return "paid", None


def answer_batch(batch_id: int, return_share: float) -> None:
    from app.approvals.errors import Conflict
    from app.budget.settlement import settle_payment
    from app.extensions import db
    from app.models import Payment, PaymentStatus
    from app.runtime import deps

    refs = db.session.scalars(select(Payment.bank_ref).where(Payment.batch_id == batch_id,
                                                             Payment.status == PaymentStatus.SUBMITTED)).all()
    db.session.commit()
    for ref in refs:
        status, reason = verdict(ref, return_share)
        try:
            settle_payment(deps(), ref, status, reason)
        except Conflict:
            continue  # answered already (a retried job): nothing more to do


def unanswered_batches(session: Session, now: datetime, *, after: timedelta = ANSWER_AFTER) -> list[int]:
    """Batches handed to the simulated bank with a payment still waiting for its answer `after` submission."""
    from app.models import BankBatch, Payment, PaymentStatus

    ids = session.scalars(select(Payment.batch_id).join(BankBatch, BankBatch.id == Payment.batch_id).where(
        BankBatch.bank == "simulated", Payment.status == PaymentStatus.SUBMITTED,
        Payment.submitted_at < now - after).distinct().order_by(Payment.batch_id)).all()
    session.commit()
    return list(ids)
