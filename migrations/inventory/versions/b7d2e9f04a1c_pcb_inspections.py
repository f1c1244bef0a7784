"""PCB inspections: date, inspector organisation, findings, whether a leak was observed
(issue 12 item 7: leaking equipment in use, and populated areas inspected regularly).

Revision ID: b7d2e9f04a1c
Revises: e5b7c9d1f3a2
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2e9f04a1c"
down_revision: str | None = "e5b7c9d1f3a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pcb_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector_org", sa.String(length=40), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("leaking_observed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["pcb_items.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_pcb_inspections_item_id_inspected_on",
        "pcb_inspections",
        ["item_id", "inspected_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_pcb_inspections_item_id_inspected_on", table_name="pcb_inspections")
    op.drop_table("pcb_inspections")
