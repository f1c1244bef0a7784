"""PCB summary cells of validated submissions (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import create_indexes, drop_table, fk, pk

revision = "a062393111f6"
down_revision = "f07a9702c405"


def upgrade() -> None:
    op.create_table(
        "pcb_summary_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=2), nullable=False),
        sa.Column("pcb_class", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("labelled", sa.Boolean(), nullable=False),
        sa.Column("in_food_feed_area", sa.Boolean(), nullable=False),
        sa.Column("screening_only", sa.Boolean(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("total_mass_kg", sa.Numeric(precision=20, scale=3), nullable=False),
        sa.Column("fluid_mass_kg", sa.Numeric(precision=20, scale=3), nullable=False),
        fk("pcb_summary_cells", "submission_id", "submissions"),
        pk("pcb_summary_cells"),
    )
    create_indexes("pcb_summary_cells", "submission_id")


def downgrade() -> None:
    drop_table("pcb_summary_cells", "submission_id")
