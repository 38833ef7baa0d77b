"""Path ids are bounded by the column they name: beyond its range the route does not match (404).

PostgreSQL refuses to compare `integer` with 2147483648 or `bigint` with 2**63 (DataError, a 500),
while no such row can exist. Werkzeug's int converter takes a `max`; IdRule fills it in from the
parameter's name, so routes keep writing `<int:task_id>` and are bounded without anyone remembering.
"""
from sqlalchemy import BigInteger
from werkzeug.routing import Rule

from app.models import (
    Attachment,
    BankBatch,
    CarbonCopy,
    HumanTask,
    Indicator,
    Notification,
    Payment,
    ProcessInstance,
    Project,
    Proxy,
)

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Path parameter -> the primary key it is looked up by. A name not listed is bounded as `integer`, the
# narrower type: an unlisted bigint id above 2**31 would answer 404, never 500.
ID_COLUMNS = {
    "instance_id": ProcessInstance.id,
    "task_id": HumanTask.id,
    "attachment_id": Attachment.id,
    "copy_id": CarbonCopy.id,
    "notification_id": Notification.id,
    "proxy_id": Proxy.id,
    "project_id": Project.id,
    "indicator_id": Indicator.id,
    "payment_id": Payment.id,
    "batch_id": BankBatch.id,
}


def id_max(name: str) -> int:
    column = ID_COLUMNS.get(name)
    return INT64_MAX if column is not None and isinstance(column.type, BigInteger) else INT32_MAX


class IdRule(Rule):
    def get_converter(self, variable_name, converter_name, args, kwargs):
        if converter_name == "int" and "max" not in kwargs:
            kwargs = {**kwargs, "max": id_max(variable_name)}
        return super().get_converter(variable_name, converter_name, args, kwargs)
