"""Small lookups shared by the budget operators."""
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.engine import ServiceCall, ServiceError
from app.models import Indicator, Org, OrgKind, ProcessInstance

CHINA = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")


def local_year(moment: datetime) -> int:
    return moment.astimezone(CHINA).year


def session_of(call: ServiceCall) -> Session:
    return call.context.session


def instance_of(call: ServiceCall) -> ProcessInstance:
    """The request the operator runs for (already locked by the use case that runs the engine)."""
    return call.context.session.get(ProcessInstance, call.context.instance_id)


def township_of(session: Session, org_id: int) -> Org:
    """The township an org belongs to (itself when it is one)."""
    org = session.get(Org, org_id)
    ancestors = [int(x) for x in org.path.strip("/").split("/")]
    township = session.scalar(select(Org).where(Org.id.in_(ancestors), Org.kind == OrgKind.TOWNSHIP))
    if township is None:
        raise ServiceError("NO_TOWNSHIP", f"{org.name} 不属于任何乡镇")
    return township


def refuse(code: str, field: str, message: str) -> ServiceError:
    """A business refusal that names the form field at fault (the API lists it under `details`)."""
    return ServiceError(code, message, {f"data.{field}": [message]})


def money(value, label: str, field: str = "amount") -> Decimal:
    """A positive amount in yuan with at most two decimals, or a ServiceError naming the field."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise refuse("BAD_AMOUNT", field, f"{label}：不是有效金额") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(CENT) or amount >= Decimal("1e16"):
        raise refuse("BAD_AMOUNT", field, f"{label}：金额须大于 0、最多两位小数")
    return amount


def indicator_by_code(session: Session, code: str, *, for_org: int | None = None,
                      field: str = "indicator_code") -> Indicator:
    """The indicator with this code; another unit's is answered exactly as a missing one, so that an
    applicant cannot learn which codes exist in other units or townships."""
    indicator = session.scalar(select(Indicator).where(Indicator.code == code))
    if indicator is None or (for_org is not None and indicator.org_id != for_org):
        raise refuse("INDICATOR_NOT_FOUND", field, f"指标 {code} 不存在或不属于本单位，不能使用（C07 按科目执行）")
    return indicator


def undone_by(key: str, removed: list[str]) -> bool:
    """Was the movement keyed `key` posted by one of the engine tasks a return or take-back removed?

    Service movements are keyed "<instance>:<engine task id>:…" (ServiceCall.idempotency_key), so this tells
    a reservation the rewind undid from one made before the step the request went back to.
    """
    parts = key.split(":")
    return len(parts) > 1 and parts[1] in removed
