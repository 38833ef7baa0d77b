"""Flask extensions, created unbound; create_app() binds them. Nothing connects at import time."""
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from app.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()


def end_session(failed: bool = False) -> None:
    """Close the request's session; a transaction that only read is committed, not rolled back.

    psycopg discards its prepared statements on every ROLLBACK, and a session closed with its
    transaction open rolls back. Read-only requests would then throw away the server-side plans that
    make the hot statements cheap (planning a join costs more than running it). Use cases commit or
    roll back themselves; what is left at the end of a request is a read.
    """
    if not db.session.registry.has():
        return
    session = db.session()
    try:
        if not failed and session.in_transaction() and not (session.new or session.dirty or session.deleted):
            session.commit()
    finally:
        db.session.remove()
