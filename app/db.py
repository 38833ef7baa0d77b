"""The declarative base every table hangs on.

Models subclass `Base` directly, so app/models (and the domain packages that read them) never import
Flask; Flask-SQLAlchemy is built on this same base in app/extensions.py. The naming convention gives
Alembic stable constraint names on PostgreSQL and SQLite alike.
"""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
