"""pcb item owner asset id (the holder's own inventory number)

Revision ID: 965659f3e627
Revises: 5a1c95111e9d
Create Date: 2026-12-01 14:32:47.939520
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "965659f3e627"
down_revision: str | None = "5a1c95111e9d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pcb_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_asset_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pcb_items", schema=None) as batch_op:
        batch_op.drop_column("owner_asset_id")
