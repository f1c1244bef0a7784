"""client tokens_valid_after (tokens issued before a disable, a secret rotation or a revoke-all
are refused)

Revision ID: 7c3e51a0d2b4
Revises: 249d683997c7
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c3e51a0d2b4"
down_revision: str | None = "249d683997c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True)
        )
    # Clients disabled before this revision: none of their earlier tokens is valid again.
    clients = sa.table(
        "clients",
        sa.column("disabled", sa.Boolean()),
        sa.column("tokens_valid_after", sa.DateTime(timezone=True)),
    )
    op.execute(
        clients.update()
        .where(clients.c.disabled.is_(True))
        .values(tokens_valid_after=sa.func.now())
    )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("tokens_valid_after")
