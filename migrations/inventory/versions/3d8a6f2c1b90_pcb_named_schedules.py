"""PCB thresholds as named schedules (issue 12 item 9): the single thresholds row, which a
national plan overwrote for every report, becomes the ``national`` schedule; the
Convention's schedule (Annex A Part II: 2025 use, 2028 ESM) is fixed in code and no longer
stored, so reports and flags can be judged against either.

Revision ID: 3d8a6f2c1b90
Revises: d8f3a6c2b1e9
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d8a6f2c1b90"
down_revision: str | None = "d8f3a6c2b1e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The seeded row (version 1, never replaced) carried the Convention's values and
# provenance; as the national schedule it says that no plan was recorded yet.
NO_PLAN = "No national plan recorded yet: the Convention's values."


def upgrade() -> None:
    with op.batch_alter_table("pcb_thresholds") as batch_op:
        batch_op.add_column(sa.Column("schedule", sa.String(length=20), nullable=True))
    thresholds = sa.table(
        "pcb_thresholds",
        sa.column("schedule", sa.String()),
        sa.column("provenance", sa.Text()),
        sa.column("version", sa.Integer()),
    )
    op.execute(thresholds.update().values(schedule="national"))
    op.execute(thresholds.update().where(thresholds.c.version == 1).values(provenance=NO_PLAN))
    with op.batch_alter_table("pcb_thresholds") as batch_op:
        batch_op.alter_column("schedule", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_pcb_thresholds_schedule"), ["schedule"])


def downgrade() -> None:
    # Back to one row in force: the national schedule's (the code before this revision
    # reads the row with id 1).
    thresholds = sa.table("pcb_thresholds", sa.column("schedule", sa.String()))
    op.execute(thresholds.delete().where(thresholds.c.schedule != "national"))
    with op.batch_alter_table("pcb_thresholds") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_pcb_thresholds_schedule"), type_="unique")
        batch_op.drop_column("schedule")
