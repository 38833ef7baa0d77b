"""Tables, one module per area. Importing this package registers every table on Base.metadata."""
from app.models.accounting import GlAccount, LedgerSide, Voucher, VoucherKind, VoucherLine
from app.models.auth import ApiToken, LoginAttempt
from app.models.budget import (
    AdjustmentKind,
    AdjustmentLine,
    BankBatch,
    BudgetLine,
    ControlOutcome,
    ControlResult,
    FundPlanLine,
    Indicator,
    IndicatorSource,
    LineStatus,
    Payment,
    PaymentStatus,
    Project,
    ProjectStatus,
    TownshipSettings,
    UnitType,
)
from app.models.collab import Attachment, CarbonCopy, NoticePreference, Notification, Proxy
from app.models.deadlines import LocalHoliday, OutboxMessage, OutboxStatus
from app.models.history import EventType, InstanceEvent
from app.models.ledger import CREDIT_SIDE, AccountKind, LedgerAccount, LedgerTransfer, TransferKind
from app.models.org import (
    ALLOWED_PARENT,
    OVERSIGHT_ROLES,
    ROLE_NAMES,
    Org,
    OrgKind,
    Role,
    RoleGrant,
    User,
    role_from_label,
)
from app.models.process import InstanceStatus, ProcessDefinition, ProcessInstance
from app.models.refdata import REF_KIND_NAMES, RefCode, RefKind
from app.models.task import Decision, Fallback, HumanTask, MultiMode, TaskCandidate, TaskKind, TaskState

__all__ = [
    "LocalHoliday", "OutboxMessage", "OutboxStatus",
    "GlAccount", "LedgerSide", "Voucher", "VoucherKind", "VoucherLine", "AdjustmentKind", "AdjustmentLine",
    "BankBatch", "BudgetLine", "ControlOutcome", "ControlResult", "FundPlanLine", "Indicator", "IndicatorSource",
    "LineStatus", "Payment", "PaymentStatus", "Project", "ProjectStatus", "TownshipSettings", "UnitType",
    "CREDIT_SIDE", "AccountKind", "LedgerAccount", "LedgerTransfer", "TransferKind", "REF_KIND_NAMES", "RefCode",
    "RefKind",
    "ALLOWED_PARENT", "ApiToken", "Attachment", "CarbonCopy", "NoticePreference", "Notification", "Proxy", "Fallback",
    "MultiMode",
    "TaskKind", "LoginAttempt", "EventType", "InstanceEvent", "OVERSIGHT_ROLES", "ROLE_NAMES", "Org",
    "OrgKind", "Role", "RoleGrant", "User", "role_from_label", "InstanceStatus", "ProcessDefinition",
    "ProcessInstance", "Decision", "HumanTask", "TaskCandidate", "TaskState",
]
