"""National action plans and their targets (issue 13 item 1): a plan's period, objectives
and responsible agencies; a target's metric, scope, baseline and target values by year.

Revision ID: 4dda2c572a5c
Revises: 3d8a6f2c1b90
Create Date: 2026-12-02 00:40:00
"""

import sqlalchemy as sa

from migrations.ddl import create_indexes, create_versioned_table, drop_table, fk

revision = "4dda2c572a5c"
down_revision = "3d8a6f2c1b90"


def upgrade() -> None:
    create_versioned_table(
        "action_plans",
        sa.Column("title_en", sa.String(length=300), nullable=False),
        sa.Column("title_es", sa.String(length=300), nullable=False),
        sa.Column("convention", sa.String(length=20), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("agencies", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
    )
    create_versioned_table(
        "plan_targets",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("objective", sa.String(length=20), nullable=False),
        sa.Column("indicator_en", sa.Text(), nullable=False),
        sa.Column("indicator_es", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("metric_id", sa.String(length=60), nullable=False),
        sa.Column("department", sa.String(length=2), nullable=True),
        sa.Column("sector", sa.String(length=60), nullable=True),
        sa.Column("schedule", sa.String(length=20), nullable=False),
        sa.Column("baseline_year", sa.Integer(), nullable=False),
        sa.Column("baseline_value", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("target_values", sa.JSON(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        fk("plan_targets", "plan_id", "action_plans"),
    )
    create_indexes("plan_targets", "plan_id")


def downgrade() -> None:
    drop_table("plan_targets", "plan_id")
    drop_table("action_plans")
