"""Column types shared by the models."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# The models' default timestamps follow the clock the application runs on.
from storage.clock import utcnow as utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite has no time zone type and SQLAlchemy's SQLite DateTime silently
    drops tzinfo, so a local time written by mistake would read back as UTC.
    Naive datetimes are refused outright; aware ones are converted to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: store times as aware UTC datetimes")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Money(TypeDecorator[Decimal]):
    """An amount with two decimals, read back as a Decimal on every backend.

    SQLite has no decimal type: SQLAlchemy's Numeric there warns, and stores
    a float. Bound as a float (exact to the cent for any budget under
    10**13) and rounded back to the cent, it reads the same on both.
    """

    impl = Numeric(18, 2, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, (Decimal, int)):
            raise TypeError(f"expected a Decimal, got {type(value).__name__}")
        return Decimal(value).quantize(_CENT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(_CENT)


_CENT = Decimal("0.01")
