"""Changing one's own password: the current one proves it is the user, the new one must pass the policy.

A wrong current password counts as a failed login (the same locks and delays), so a stolen session
cannot be used to guess it. Every other session and token of the user ends with the change.
"""
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.approvals.errors import InvalidInput
from app.auth.login import LoginPolicy, check_not_limited, record_attempt
from app.auth.passwords import hash_password, verify_password
from app.auth.policy import password_problems
from app.auth.sessions import end_sessions
from app.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PasswordChange:
    current: str
    new: str
    confirm: str | None = None  # the page asks twice; the API does not


def change_password(session: Session, user: User, change: PasswordChange, *, ip: str, now: datetime,
                    policy: LoginPolicy, min_length: int) -> None:
    """Set the new password and end every session and token of the user; commits.

    InvalidInput names the fields (current_password, new_password, confirm_password); RateLimited when
    the user's failed tries are being slowed down.
    """
    check_not_limited(session, user.username, ip, now, policy, user.login_reset_at)
    errors: dict[str, list[str]] = {}
    if not verify_password(user.password_hash, change.current or "", policy.hash_profile):
        errors["current_password"] = ["当前密码不正确"]
        record_attempt(session, user.username, ip, now, ok=False)
        session.commit()
        raise InvalidInput("密码没有修改", errors)
    if problems := password_problems(change.new, user.username, min_length):
        errors["new_password"] = problems
    elif change.new == change.current:
        errors["new_password"] = ["新密码不能与当前密码相同"]
    if change.confirm is not None and change.confirm != change.new:
        errors["confirm_password"] = ["两次输入的新密码不一致"]
    if errors:
        raise InvalidInput("密码没有修改", errors)
    user.password_hash = hash_password(change.new, policy.hash_profile)
    end_sessions(session, user)
    session.commit()
    log.info("password of %s changed; every session and token ended", user.username)
