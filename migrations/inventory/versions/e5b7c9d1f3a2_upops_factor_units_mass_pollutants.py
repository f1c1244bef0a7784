"""UP-POPs factors carry their unit: TEQ (µg TEQ...) for PCDD/F and dl-PCB, mass (µg...)
for HCB and PeCBz, which have no TEQ scheme (issue 12, item 1).

Existing HCB/PeCBz factors (accepted "in µg TEQ" before) become µg with no scheme, and
their estimates lose the scheme too: their numbers were masses all along.

Revision ID: e5b7c9d1f3a2
Revises: c4e1a2b3d5f6
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b7c9d1f3a2"
down_revision: str | None = "c4e1a2b3d5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MASS = ("hcb", "pecbz")


def upgrade() -> None:
    with op.batch_alter_table("emission_factors") as batch_op:
        batch_op.add_column(
            sa.Column("value_unit", sa.String(length=10), nullable=False, server_default="µg TEQ")
        )
    factors = sa.table(
        "emission_factors",
        sa.column("pollutant", sa.String),
        sa.column("value_unit", sa.String),
        sa.column("teq_scheme", sa.String),
    )
    op.execute(
        factors.update()
        .where(factors.c.pollutant.in_(_MASS))
        .values(value_unit="µg", teq_scheme="")
    )
    estimates = sa.table(
        "upops_estimates", sa.column("pollutant", sa.String), sa.column("teq_scheme", sa.String)
    )
    op.execute(estimates.update().where(estimates.c.pollutant.in_(_MASS)).values(teq_scheme=""))


def downgrade() -> None:
    # HCB/PeCBz get back the scheme every factor had by default before.
    for name in ("emission_factors", "upops_estimates"):
        table = sa.table(
            name, sa.column("pollutant", sa.String), sa.column("teq_scheme", sa.String)
        )
        op.execute(table.update().where(table.c.pollutant.in_(_MASS)).values(teq_scheme="WHO-2005"))
    with op.batch_alter_table("emission_factors") as batch_op:
        batch_op.drop_column("value_unit")
