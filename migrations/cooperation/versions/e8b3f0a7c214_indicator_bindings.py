"""indicators bound to inventory metrics (created 2026-12-02).

``indicator_bindings``: an activity's indicator (by result and indicator position) fed by
an inventory metric for a scope and schedule; ``indicator_binding_values``: what the
inventory answered per year, with the submissions it came from and when it was read.
"""

import sqlalchemy as sa
from alembic import op

revision = "e8b3f0a7c214"
down_revision = "7001229a2431"


def upgrade() -> None:
    op.create_table(
        "indicator_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("result_index", sa.Integer(), nullable=False),
        sa.Column("indicator_index", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("schedule", sa.String(length=20), nullable=False),
        sa.Column("department", sa.String(length=2), nullable=True),
        sa.Column("sector", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_indicator_bindings_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_bindings")),
        sa.UniqueConstraint(
            "activity_id",
            "result_index",
            "indicator_index",
            name=op.f("uq_indicator_bindings_activity_id_result_index_indicator_index"),
        ),
    )
    op.create_index(
        op.f("ix_indicator_bindings_activity_id"), "indicator_bindings", ["activity_id"]
    )
    op.create_table(
        "indicator_binding_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("binding_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("unit", sa.String(length=30), nullable=False),
        sa.Column("submissions", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["binding_id"],
            ["indicator_bindings.id"],
            name=op.f("fk_indicator_binding_values_binding_id_indicator_bindings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_binding_values")),
        sa.UniqueConstraint(
            "binding_id", "year", name=op.f("uq_indicator_binding_values_binding_id_year")
        ),
    )
    op.create_index(
        op.f("ix_indicator_binding_values_binding_id"),
        "indicator_binding_values",
        ["binding_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_indicator_binding_values_binding_id"), table_name="indicator_binding_values"
    )
    op.drop_table("indicator_binding_values")
    op.drop_index(op.f("ix_indicator_bindings_activity_id"), table_name="indicator_bindings")
    op.drop_table("indicator_bindings")
