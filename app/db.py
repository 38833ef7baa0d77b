"""The declarative base every table hangs on.

Models subclass `Base` directly, so app/models (and the domain packages that read them) never import
Flask; Flask-SQLAlchemy is built on this same base in app/extensions.py. The naming convention gives
Alembic stable constraint names on PostgreSQL and SQLite alike.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT inside the caller's transaction: released on success, rolled back (and re-raised) on error.

    pysqlite in its legacy transaction mode (the Python < 3.12 default, which we keep so that reads see
    the latest commits, as on PostgreSQL) opens a transaction only before an INSERT/UPDATE/DELETE. A
    SAVEPOINT issued first would itself become the outermost transaction and its RELEASE would commit
    the caller's work. So on SQLite the transaction is opened explicitly first.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
    with session.begin_nested():
        yield
