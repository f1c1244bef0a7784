"""initial cooperation schema (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import create_versioned_table, drop_table, fk, pk, versioned

revision = "c1212a5a708c"
down_revision = None


def upgrade() -> None:
    create_versioned_table(
        "organisations",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_es", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("iati_type", sa.String(length=3), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("iati_ref", sa.String(length=100), nullable=True),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    create_versioned_table(
        "work_programs",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=False),
        sa.Column("title_es", sa.String(length=500), nullable=False),
        sa.Column("agreement", sa.String(length=500), nullable=False),
        sa.Column("agreement_signed_on", sa.Date(), nullable=True),
        sa.Column("agreement_in_force_on", sa.Date(), nullable=True),
        sa.Column("commission", sa.String(length=300), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("background_en", sa.Text(), nullable=True),
        sa.Column("benchmarks_en", sa.Text(), nullable=True),
        sa.UniqueConstraint("code", name=op.f("uq_work_programs_code")),
    )
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("text_es", sa.Text(), nullable=True),
        fk("goals", "program_id", "work_programs", ondelete="CASCADE"),
        pk("goals"),
        sa.UniqueConstraint("program_id", "code", name=op.f("uq_goals_program_id_code")),
    )
    op.create_table(
        "priority_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("title_en", sa.Text(), nullable=False),
        sa.Column("title_es", sa.Text(), nullable=True),
        fk("priority_areas", "program_id", "work_programs", ondelete="CASCADE"),
        pk("priority_areas"),
        sa.UniqueConstraint("program_id", "code", name=op.f("uq_priority_areas_program_id_code")),
    )
    op.create_table(
        "action_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority_area_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        fk("action_areas", "priority_area_id", "priority_areas", ondelete="CASCADE"),
        pk("action_areas"),
        sa.UniqueConstraint(
            "priority_area_id", "number", name=op.f("uq_action_areas_priority_area_id_number")
        ),
    )
    op.create_table(
        "objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority_area_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        fk("objectives", "priority_area_id", "priority_areas", ondelete="CASCADE"),
        pk("objectives"),
        sa.UniqueConstraint(
            "priority_area_id", "number", name=op.f("uq_objectives_priority_area_id_number")
        ),
    )


def downgrade() -> None:
    drop_table("objectives")
    drop_table("action_areas")
    drop_table("priority_areas")
    drop_table("goals")
    drop_table("work_programs")
    drop_table("organisations")
