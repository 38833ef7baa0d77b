"""Check a username and password, counting failures so guessing is slow and a lock stays narrow.

等保 asks that repeated failures lock the login. A lock anyone can trigger is a lever against the
user, so each rule is bounded (README, "Logging in"):

- five failures of one username from one address lock that pair for the window, the right password
  included; the same user from another address is not locked;
- from the third failure of a username (from anywhere), each try waits after the last failure, twice
  as long each time up to `max_delay`: guessing from many addresses stays slow, and the user waits
  a minute at worst;
- thirty failures from one address (across usernames) delay every try from it the same way, except
  for a user who has logged in from that address before (an office behind one public address);
- a success clears the username's count; an admin's unlock clears it too (User.login_reset_at).

Refused tries are not recorded, so refusing costs no hashing and a refusal never prolongs itself.
"""
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from app.auth.passwords import burn_time, verify_password
from app.models import LoginAttempt, User


class BadCredentials(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: timedelta):
        self.retry_after = retry_after
        seconds = max(1, math.ceil(retry_after.total_seconds()))
        wait = f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"
        super().__init__(f"登录失败次数过多，请 {wait}后再试")


@dataclass(frozen=True)
class LoginPolicy:
    window: timedelta  # failures older than this are forgotten
    lock_after: int  # failures of one username from one address that lock the pair for the window
    delay_after_per_user: int  # failures of one username (any address) after which tries wait
    delay_after_per_ip: int  # failures from one address (any username) after which its tries wait
    max_delay: timedelta
    known_address_for: timedelta  # a success from an address this recent exempts the user from its delay
    hash_profile: str
    first_delay: timedelta = timedelta(seconds=1)


def _since_success(attempts: list[LoginAttempt], since: datetime) -> list[datetime]:
    """Times of the failures after `since` that no later success cleared (`attempts` oldest first)."""
    failures: list[datetime] = []
    for attempt in attempts:
        if attempt.at <= since:
            continue
        failures = [] if attempt.succeeded else [*failures, attempt.at]
    return failures


def _delayed_until(count: int, last: datetime | None, after: int, policy: LoginPolicy) -> datetime | None:
    if count < after or last is None:
        return None
    exponent = min(count - after, 20)  # 2**20 s is far past any max_delay
    return last + min(policy.first_delay * 2 ** exponent, policy.max_delay)


def _user_waits(session: Session, username: str, ip: str, since: datetime,
                policy: LoginPolicy) -> list[datetime]:
    """When the username's own rules allow the next try: the pair lock and the per-user delay."""
    attempts = session.scalars(
        select(LoginAttempt).where(LoginAttempt.username == username, LoginAttempt.at > since)
        .order_by(LoginAttempt.at, LoginAttempt.id)).all()
    waits = []
    of_user = _since_success(attempts, since)
    of_pair = _since_success([a for a in attempts if a.ip == ip], since)
    if len(of_pair) >= policy.lock_after:
        waits.append(of_pair[-policy.lock_after] + policy.window)
    if (delayed := _delayed_until(len(of_user), of_user[-1] if of_user else None,
                                  policy.delay_after_per_user, policy)) is not None:
        waits.append(delayed)
    return waits


def _address_wait(session: Session, username: str, ip: str, now: datetime,
                  policy: LoginPolicy) -> datetime | None:
    count, last = session.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .where(LoginAttempt.ip == ip, LoginAttempt.at > now - policy.window, LoginAttempt.succeeded.is_(False))
    ).one()
    delayed = _delayed_until(count, last, policy.delay_after_per_ip, policy)
    if delayed is None or delayed <= now:
        return None
    known_here = session.scalar(select(exists().where(and_(
        LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(True),
        LoginAttempt.at > now - policy.known_address_for))))
    return None if known_here else delayed


def check_not_limited(session: Session, username: str, ip: str, now: datetime, policy: LoginPolicy,
                      reset_at: datetime | None = None) -> None:
    """Raise RateLimited when this username may not try from this address yet."""
    since = max(now - policy.window, reset_at) if reset_at else now - policy.window
    waits = _user_waits(session, username, ip, since, policy)
    if (address := _address_wait(session, username, ip, now, policy)) is not None:
        waits.append(address)
    if waits and max(waits) > now:
        raise RateLimited(max(waits) - now)


def record_attempt(session: Session, username: str, ip: str, now: datetime, ok: bool) -> None:
    session.add(LoginAttempt(username=username, ip=ip[:45], at=now, succeeded=ok))


def authenticate(session: Session, username: str, password: str, ip: str, now: datetime,
                 policy: LoginPolicy) -> User:
    """Return the active user, or raise BadCredentials / RateLimited. Commits the attempt record."""
    username = (username or "").strip()[:64]
    user = session.scalar(select(User).where(User.username == username))
    check_not_limited(session, username, ip, now, policy, user.login_reset_at if user else None)
    if user is None:
        burn_time(password, policy.hash_profile)
        ok = False
    else:
        # Verified even when disabled, so a disabled account answers as slowly as any other.
        ok = verify_password(user.password_hash, password, policy.hash_profile) and user.active
    record_attempt(session, username, ip, now, ok)
    session.commit()
    if not ok:
        raise BadCredentials("用户名或密码错误")
    return user

