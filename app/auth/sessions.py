"""Ending every login of a user at once: logout, a new password, being disabled.

Each cookie session and API token records the user's session_version when it began; the request's
user is found only while the two agree (app/auth/request.py, app/auth/tokens.py). Raising the version
is one UPDATE, so every browser and every token of the user stops working in the same commit.
"""
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from app.models import ApiToken, User


def end_sessions(session: Session, user: User) -> None:
    """End the user's sessions and tokens; the caller commits (with whatever else changed)."""
    session.execute(update(User).where(User.id == user.id)
                    .values(session_version=User.session_version + 1)
                    .execution_options(synchronize_session=False))
    # The version alone would do; the rows are deleted so a revoked token is not kept, even hashed.
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)
                    .execution_options(synchronize_session=False))
    session.refresh(user, ["session_version"])


def log_out_everywhere(session: Session, user: User) -> None:
    end_sessions(session, user)
    session.commit()
