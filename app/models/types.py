"""Column types that behave the same on PostgreSQL and SQLite."""
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Integer, Numeric
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")

# Ids of the high-volume tables (instances, tasks, history): 64-bit on PostgreSQL; SQLite only
# auto-increments a column declared exactly INTEGER PRIMARY KEY, which is 64-bit there anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """An aware UTC datetime in and out. SQLite forgets the zone, so we put it back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator):
    """Yuan with two decimals: NUMERIC(18,2) on PostgreSQL, integer fen on SQLite.

    SQLite has no decimal type; storing fen keeps sums and range filters exact there too.
    """

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value).quantize(CENT)
        return int(value * 100) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(value) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


def render_for_migration(type_, obj, autogen_context):
    """Write our column types into migrations as plain SQLAlchemy types, so a migration never imports app code."""
    if type_ != "type":
        return False
    if isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, Money):
        return 'sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite")'
    return False
