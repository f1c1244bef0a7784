"""audit sessions (crash detection, spool drains) and the verification checkpoint."""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import drop_table, pk

revision = "7c1e5a0d3b42"
down_revision = "7c3e51a0d2b4"


def upgrade() -> None:
    op.create_table(
        "audit_sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("spool_drained", sa.BigInteger(), nullable=False),
        pk("audit_sessions"),
    )
    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        pk("audit_checkpoint"),
    )


def downgrade() -> None:
    drop_table("audit_checkpoint")
    drop_table("audit_sessions")
