"""Check a username and password, counting failures to slow down guessing.

Failures are counted per username and per client address over a window; past the limit every try
is refused (429) until old failures age out, whether or not the password is right.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.passwords import burn_time, verify_password
from app.models import LoginAttempt, User


class BadCredentials(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: timedelta):
        self.retry_after = retry_after
        super().__init__(f"登录失败次数过多，请 {int(retry_after.total_seconds() // 60) + 1} 分钟后再试")


@dataclass(frozen=True)
class LoginPolicy:
    window: timedelta
    max_per_user: int
    max_per_ip: int
    hash_profile: str


def _failures(session: Session, column, value: str, since: datetime) -> tuple[int, datetime | None]:
    count, oldest = session.execute(
        select(func.count(), func.min(LoginAttempt.at))
        .where(column == value, LoginAttempt.at > since, LoginAttempt.succeeded.is_(False))
    ).one()
    return count, oldest


def authenticate(session: Session, username: str, password: str, ip: str, now: datetime,
                 policy: LoginPolicy) -> User:
    """Return the active user, or raise BadCredentials / RateLimited. Commits the attempt record."""
    username = (username or "").strip()[:64]
    since = now - policy.window
    for column, value, limit in ((LoginAttempt.username, username, policy.max_per_user),
                                 (LoginAttempt.ip, ip, policy.max_per_ip)):
        count, oldest = _failures(session, column, value, since)
        if count >= limit:
            raise RateLimited(oldest + policy.window - now)
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        burn_time(password, policy.hash_profile)
        ok = False
    else:
        ok = user.active and verify_password(user.password_hash, password, policy.hash_profile)
    session.add(LoginAttempt(username=username, ip=ip[:45], at=now, succeeded=ok))
    session.commit()
    if not ok:
        raise BadCredentials("用户名或密码错误")
    return user
