"""The simulated bank's job: answer each payment of a batch, paid or (for a share) returned."""
import hashlib

from sqlalchemy import select

RETURN_REASONS = ["收款人户名与账号不符", "收款账户已销户", "收款账户冻结"]


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
