"""Tables, one module per area. Importing this package registers every table on Base.metadata."""
from app.models.auth import ApiToken, LoginAttempt
from app.models.collab import Attachment, CarbonCopy, Notification, Proxy
from app.models.history import EventType, InstanceEvent
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
from app.models.task import Decision, Fallback, HumanTask, MultiMode, TaskCandidate, TaskKind, TaskState

__all__ = [
    "ALLOWED_PARENT", "ApiToken", "Attachment", "CarbonCopy", "Notification", "Proxy", "Fallback", "MultiMode",
    "TaskKind", "LoginAttempt", "EventType", "InstanceEvent", "OVERSIGHT_ROLES", "ROLE_NAMES", "Org",
    "OrgKind", "Role", "RoleGrant", "User", "role_from_label", "InstanceStatus", "ProcessDefinition",
    "ProcessInstance", "Decision", "HumanTask", "TaskCandidate", "TaskState",
]
