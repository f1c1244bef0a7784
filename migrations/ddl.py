"""The shapes the migrations repeat, written once.

Each helper renders exactly what autogenerate wrote before it (same names through the naming
convention, same types, same batch operations), so the schema a migration builds is
unchanged and ``tests/test_migrations.py`` still finds no difference from the models.
Migrations import only this module, never application code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem


def versioned() -> tuple[sa.Column[object], ...]:
    """``created_at``, ``updated_at``, ``version``: the columns of ``VersionedMixin``."""
    return (
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def create_versioned_table(table: str, *elements: SchemaItem) -> None:
    """The table of a ``VersionedMixin`` model: ``id``, the columns among ``elements``,
    ``created_at``/``updated_at``/``version``, then the other elements (constraints) and the
    primary key on ``id``."""
    columns = [e for e in elements if isinstance(e, sa.Column)]
    constraints = [e for e in elements if not isinstance(e, sa.Column)]
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns,
        *versioned(),
        *constraints,
        pk(table),
    )


def pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key of ``table`` (on ``id`` unless columns are given)."""
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=op.f(f"pk_{table}"))


def fk(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """``table.column`` references ``target.id``."""
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def create_child_table(table: str, parent: str, key: str, *elements: SchemaItem) -> None:
    """A table whose rows belong to one ``parent`` row: an ``id``, the ``key`` column that
    references the parent (its rows go when it goes), ``elements``; indexed on ``key``."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(key, sa.Integer(), nullable=False),
        *elements,
        fk(table, key, parent, ondelete="CASCADE"),
        pk(table),
    )
    create_indexes(table, key)


def create_link_table(table: str, left: tuple[str, str], right: tuple[str, str]) -> None:
    """A many-to-many link: ``left`` and ``right`` are (column, referenced table); a row goes
    with either end. The key is (left, right); ``ix_<table>_area`` serves lookups from the
    right."""
    (left_key, left_table), (right_key, right_table) = left, right
    op.create_table(
        table,
        sa.Column(left_key, sa.Integer(), nullable=False),
        sa.Column(right_key, sa.Integer(), nullable=False),
        fk(table, left_key, left_table, ondelete="CASCADE"),
        fk(table, right_key, right_table, ondelete="CASCADE"),
        pk(table, left_key, right_key),
    )
    create_indexes(table, named={f"ix_{table}_area": [right_key, left_key]})


def create_idempotency_keys() -> None:
    """The table of ``shared.idempotency``: the first answer to each Idempotency-Key."""
    op.create_table(
        "idempotency_keys",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        pk("idempotency_keys", "client_id", "key"),
    )


def create_indexes(
    table: str, *columns: str, named: dict[str, Sequence[str]] | None = None
) -> None:
    """Non-unique indexes on ``table``: one per column in ``columns`` (named by the
    convention), and those in ``named`` (name: columns)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
        for name, indexed in (named or {}).items():
            batch_op.create_index(name, list(indexed), unique=False)


def drop_indexes(table: str, *columns: str, named: Sequence[str] = ()) -> None:
    """Drop what ``create_indexes`` made with the same arguments."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in named:
            batch_op.drop_index(name)
        for column in reversed(columns):
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))


def drop_table(table: str, *indexed: str, named: Sequence[str] = ()) -> None:
    """Drop ``table`` after its indexes (``indexed``/``named`` as for ``create_indexes``)."""
    if indexed or named:
        drop_indexes(table, *indexed, named=named)
    op.drop_table(table)
