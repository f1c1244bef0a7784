"""Mercury Level 1 factor catalogue; a mercury estimate names the catalogue factor it was
computed with (Level 1) or has its own factor (Level 2) (issue 12, item 12).

Existing mercury estimates all carry their own factor (there was no catalogue), so they
become Level 2: the level now says where the factor came from. Their figures do not change.

Revision ID: d8f3a6c2b1e9
Revises: b7d2e9f04a1c
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.ddl import create_indexes, create_versioned_table

revision: str = "d8f3a6c2b1e9"
down_revision: str | None = "b7d2e9f04a1c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHARES = ("air", "water", "land", "by_products", "general_waste", "sector_specific")


def upgrade() -> None:
    create_versioned_table(
        "mercury_factors",
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("subcategory", sa.String(length=200), nullable=False),
        sa.Column("activity_unit", sa.String(length=20), nullable=False),
        sa.Column("input_factor_default", sa.Numeric(precision=20, scale=9), nullable=False),
        sa.Column("input_factor_low", sa.Numeric(precision=20, scale=9), nullable=True),
        sa.Column("input_factor_high", sa.Numeric(precision=20, scale=9), nullable=True),
        *(sa.Column(s, sa.Numeric(precision=6, scale=5), nullable=False) for s in _SHARES),
        sa.Column("toolkit_version", sa.String(length=40), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "category",
            "subcategory",
            "toolkit_version",
            name=op.f("uq_mercury_factors_category_subcategory_toolkit_version"),
        ),
    )
    create_indexes("mercury_factors", "category")
    with op.batch_alter_table("mercury_estimates") as batch_op:
        batch_op.add_column(sa.Column("factor_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_mercury_estimates_factor_id_mercury_factors"),
            "mercury_factors",
            ["factor_id"],
            ["id"],
        )
    estimates = sa.table(
        "mercury_estimates", sa.column("toolkit_level", sa.Integer), sa.column("factor_id")
    )
    op.execute(estimates.update().where(estimates.c.factor_id.is_(None)).values(toolkit_level=2))


def downgrade() -> None:
    with op.batch_alter_table("mercury_estimates") as batch_op:
        batch_op.drop_constraint(
            op.f("fk_mercury_estimates_factor_id_mercury_factors"), type_="foreignkey"
        )
        batch_op.drop_column("factor_id")
    op.drop_index(op.f("ix_mercury_factors_category"), table_name="mercury_factors")
    op.drop_table("mercury_factors")
