"""clients, revocations and audit log (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import create_indexes, create_versioned_table, drop_table, pk, versioned

revision = "249d683997c7"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("org", sa.String(length=40), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        pk("audit_entries"),
    )
    create_indexes(
        "audit_entries",
        "at",
        "status",
        named={
            "ix_audit_entries_client_at": ["client_id", "at"],
            "ix_audit_entries_org_at": ["org", "at"],
        },
    )

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        pk("audit_head"),
    )
    create_versioned_table(
        "clients",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=True),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("client_id", name=op.f("uq_clients_client_id")),
    )
    create_indexes("clients", "org_code")

    op.create_table(
        "revoked_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        pk("revoked_tokens", "jti"),
    )
    create_indexes("revoked_tokens", "expires_at")


def downgrade() -> None:
    drop_table("revoked_tokens", "expires_at")
    drop_table("clients", "org_code")
    drop_table("audit_head")
    drop_table(
        "audit_entries",
        "at",
        "status",
        named=("ix_audit_entries_org_at", "ix_audit_entries_client_at"),
    )
