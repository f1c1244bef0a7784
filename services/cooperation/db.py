"""The cooperation database's declarative base, its exact decimal column type, and the
foreign key of a row that lives and dies with its parent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

from shared.db import new_metadata


class Base(DeclarativeBase):
    """Base of every cooperation table."""

    metadata = new_metadata()


def cascade(parent: str, **column: Any) -> Any:
    """The ``<parent>.id`` column of a child row: the database deletes it with its parent."""
    return mapped_column(ForeignKey(f"{parent}.id", ondelete="CASCADE"), **column)


class Hundredths(TypeDecorator[Decimal]):
    """A decimal with at most two places, stored exactly as an integer count of hundredths.

    Money and percentages must never pass through binary floats. SQLite has no exact
    decimal type (SQLAlchemy converts NUMERIC through float there), so the value is kept as
    an integer on every backend: sums in SQL stay exact and give the same answer on SQLite
    and PostgreSQL. A value with more than two decimal places is refused, never rounded.
    """

    impl = BigInteger
    cache_ok = True

    # TypeDecorator's interface fixes the name ``dialect``; hundredths are the same everywhere.
    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:  # noqa: ARG002
        if value is None:
            return None
        scaled = Decimal(value).scaleb(2)
        if not scaled.is_finite() or scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than two decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:  # noqa: ARG002
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-2)
