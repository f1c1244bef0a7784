"""The cooperation database's declarative base, its exact decimal column type, and the
foreign key of a row that lives and dies with its parent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from shared.db import new_metadata


class Base(DeclarativeBase):
    """Base of every cooperation table."""

    metadata = new_metadata()


def cascade(parent: str, **column: Any) -> Any:
    """The ``<parent>.id`` column of a child row: the database deletes it with its parent."""
    return mapped_column(ForeignKey(f"{parent}.id", ondelete="CASCADE"), **column)


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal kept exactly, at any scale and size (money, percentages as IATI has them).

    PostgreSQL: ``NUMERIC`` without precision (arbitrary precision, exact). SQLite has no
    exact decimal type (its NUMERIC keeps 15 significant digits, through binary floats), so
    there the value is its plain decimal text. Either way Python gets the same ``Decimal``
    back; sums are made in Python (``matrix.queries``), so both backends give the same
    answer. Non-finite values are refused.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value)
        if not exact.is_finite():
            raise ValueError(f"not a finite decimal: {value}")
        return format(exact, "f") if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:  # noqa: ARG002
        return None if value is None else Decimal(value)
