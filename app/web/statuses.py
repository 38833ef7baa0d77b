"""A request's status in words, the same on every page and list (the `request_status` filter):
审批中 / 已退回 / 已撤回 / 已通过 / 已驳回 / 支付中 / 已支付 / 已退票.

The instance's own status says only running / approved / rejected / withdrawn; the words people know
from 钉钉审批 and the bank need two more facts: the payment's status (a paid payment is 已支付, one the
bank sent back is 已退票 although its process ended "rejected"), and whether the request waits on its
applicant's own desk (已退回: a 退回 to the application, or a step the diagram hands back to them; no
approval desk is ever the applicant's, C17).
"""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import HumanTask, InstanceStatus, Payment, PaymentStatus, ProcessInstance, TaskState


@dataclass(frozen=True)
class RequestStatus:
    word: str
    key: str  # the badge's CSS class: badge-<key>


WORDS = {
    InstanceStatus.RUNNING: RequestStatus("审批中", "running"),
    InstanceStatus.APPROVED: RequestStatus("已通过", "approved"),
    InstanceStatus.REJECTED: RequestStatus("已驳回", "rejected"),
    InstanceStatus.WITHDRAWN: RequestStatus("已撤回", "withdrawn"),
    InstanceStatus.CANCELLED: RequestStatus("已取消", "cancelled"),
}
RETURNED = RequestStatus("已退回", "returned")
PAYING = RequestStatus("支付中", "paying")
PAID = RequestStatus("已支付", "paid")
BANK_RETURNED = RequestStatus("已退票", "bank-returned")


def status_in_words(status: str | None, payment_status: str | None = None, returned: bool = False) -> RequestStatus:
    if payment_status == PaymentStatus.PAID and status == InstanceStatus.APPROVED:
        return PAID
    if payment_status == PaymentStatus.RETURNED:
        return BANK_RETURNED
    if status == InstanceStatus.RUNNING:
        if returned:
            return RETURNED
        if payment_status == PaymentStatus.SUBMITTED:
            return PAYING
    return WORDS.get(status, RequestStatus(status or "—", "unknown"))


def statuses_of(session: Session, instances: list[dict]) -> dict[int, RequestStatus]:
    """Each instance summary's status in words: two queries for a whole list."""
    ids = [i["id"] for i in instances]
    if not ids:
        return {}
    payments = dict(session.execute(select(Payment.instance_id, Payment.status)
                                    .where(Payment.instance_id.in_(ids))).all())
    running = [i["id"] for i in instances if i["status"] == InstanceStatus.RUNNING]
    returned = set(session.scalars(
        select(HumanTask.instance_id).distinct().join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .where(HumanTask.instance_id.in_(running), HumanTask.state == TaskState.READY,
               HumanTask.assignee_id == ProcessInstance.initiator_id))) if running else set()
    return {i["id"]: status_in_words(i["status"], payments.get(i["id"]), i["id"] in returned) for i in instances}
