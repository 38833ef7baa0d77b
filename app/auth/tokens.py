"""Bearer tokens for the API: random, shown once, stored as SHA-256 only, ended with the user's sessions."""
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from app.models import ApiToken, RoleGrant, User


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, now: datetime, ttl: timedelta) -> tuple[str, datetime]:
    """Create a token for `user`; commits. Expired tokens of the user are swept at the same time."""
    raw = secrets.token_urlsafe(32)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id, ApiToken.expires_at <= now))
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(raw), created_at=now, expires_at=now + ttl,
                         session_version=user.session_version))
    session.commit()
    return raw, now + ttl


def user_for_token(session: Session, raw: str, now: datetime) -> User | None:
    return session.scalar(
        select(User).options(selectinload(User.grants).joinedload(RoleGrant.org))
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_sha256 == _digest(raw), ApiToken.expires_at > now, User.active.is_(True),
               ApiToken.session_version == User.session_version)
    )


def revoke_token(session: Session, raw: str) -> None:
    session.execute(delete(ApiToken).where(ApiToken.token_sha256 == _digest(raw)))
    session.commit()
