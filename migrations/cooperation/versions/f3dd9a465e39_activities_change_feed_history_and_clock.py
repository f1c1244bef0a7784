"""activities, change feed, history and commit clock (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import (
    create_child_table,
    create_idempotency_keys,
    create_indexes,
    create_link_table,
    create_versioned_table,
    drop_table,
    fk,
    pk,
    versioned,
)

revision = "f3dd9a465e39"
down_revision = "c1212a5a708c"


def upgrade() -> None:
    op.create_table(
        "activity_changes",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=150), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("audience_before", sa.Text(), nullable=True),
        sa.Column("audience_after", sa.Text(), nullable=True),
        pk("activity_changes", "seq"),
    )
    create_indexes("activity_changes", "activity_id", "program_id")

    op.create_table(
        "activity_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=150), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("org", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("changes_json", sa.Text(), nullable=False),
        pk("activity_history"),
    )
    create_indexes("activity_history", "activity_id")

    create_idempotency_keys()
    op.create_table(
        "sync_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
        pk("sync_clock"),
    )
    create_versioned_table(
        "activities",
        sa.Column("identifier", sa.String(length=150), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("reporting_org_id", sa.Integer(), nullable=False),
        sa.Column("lead_org_id", sa.Integer(), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=False),
        sa.Column("title_es", sa.String(length=500), nullable=True),
        sa.Column("description_en", sa.Text(), nullable=True),
        sa.Column("description_es", sa.Text(), nullable=True),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("default_currency", sa.String(length=3), nullable=True),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "visibility IN ('public', 'partners', 'participants')",
            name=op.f("ck_activities_visibility"),
        ),
        sa.CheckConstraint("status BETWEEN 1 AND 6", name=op.f("ck_activities_status")),
        fk("activities", "lead_org_id", "organisations"),
        fk("activities", "program_id", "work_programs"),
        fk("activities", "reporting_org_id", "organisations"),
        sa.UniqueConstraint("identifier", name=op.f("uq_activities_identifier")),
    )
    create_indexes(
        "activities",
        "lead_org_id",
        "program_id",
        "status",
        named={"ix_activities_updated_at_id": ["updated_at", "id"]},
    )

    create_child_table(
        "activity_budgets",
        "activities",
        "activity_id",
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=False),
    )

    create_child_table(
        "activity_document_links",
        "activities",
        "activity_id",
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("format", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=3), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
    )

    create_child_table(
        "activity_locations",
        "activities",
        "activity_id",
        sa.Column("department", sa.String(length=2), nullable=False),
    )

    create_child_table(
        "activity_participants",
        "activities",
        "activity_id",
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("org_type", sa.String(length=3), nullable=True),
        sa.CheckConstraint("role BETWEEN 1 AND 4", name=op.f("ck_activity_participants_role")),
        fk("activity_participants", "organisation_id", "organisations"),
    )
    create_indexes(
        "activity_participants",
        named={"ix_activity_participants_org": ["organisation_id", "activity_id"]},
    )

    create_child_table(
        "activity_policy_markers",
        "activities",
        "activity_id",
        sa.Column("vocabulary", sa.String(length=3), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("significance", sa.String(length=2), nullable=True),
    )

    create_link_table(
        "activity_priority_areas",
        ("activity_id", "activities"),
        ("priority_area_id", "priority_areas"),
    )

    create_child_table(
        "activity_progress_updates",
        "activities",
        "activity_id",
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=True),
        sa.Column("text_es", sa.Text(), nullable=True),
        sa.Column("author_org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        fk("activity_progress_updates", "author_org_id", "organisations"),
    )

    create_child_table(
        "activity_results",
        "activities",
        "activity_id",
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("aggregation_status", sa.Boolean(), nullable=True),
    )

    create_child_table(
        "activity_sectors",
        "activities",
        "activity_id",
        sa.Column("vocabulary", sa.String(length=3), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("percentage", sa.BigInteger(), nullable=True),
    )
    create_indexes("activity_sectors", named={"ix_activity_sectors_code": ["code", "activity_id"]})

    create_child_table(
        "activity_transactions",
        "activities",
        "activity_id",
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        sa.Column("provider_name", sa.String(length=300), nullable=True),
        sa.Column("provider_type", sa.String(length=3), nullable=True),
        sa.Column("receiver_ref", sa.String(length=100), nullable=True),
        sa.Column("receiver_name", sa.String(length=300), nullable=True),
        sa.Column("receiver_type", sa.String(length=3), nullable=True),
    )

    create_link_table(
        "activity_action_areas", ("activity_id", "activities"), ("action_area_id", "action_areas")
    )

    create_child_table(
        "result_indicators",
        "activity_results",
        "result_id",
        sa.Column("measure", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("ascending", sa.Boolean(), nullable=True),
        sa.Column("baseline_year", sa.Integer(), nullable=True),
        sa.Column("baseline_value", sa.String(length=100), nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
    )

    create_child_table(
        "indicator_periods",
        "result_indicators",
        "indicator_id",
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("actual", sa.String(length=100), nullable=True),
    )

    with op.batch_alter_table("priority_areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("objectives_en", sa.Text(), nullable=True))

    with op.batch_alter_table("work_programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preamble_en", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("goals_intro_en", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("activities_en", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("reporting_org_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_work_programs_reporting_org_id_organisations"),
            "organisations",
            ["reporting_org_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("work_programs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_work_programs_reporting_org_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_column("reporting_org_id")
        batch_op.drop_column("source")
        batch_op.drop_column("activities_en")
        batch_op.drop_column("goals_intro_en")
        batch_op.drop_column("preamble_en")

    with op.batch_alter_table("priority_areas", schema=None) as batch_op:
        batch_op.drop_column("objectives_en")

    drop_table("indicator_periods", "indicator_id")
    drop_table("result_indicators", "result_id")
    drop_table("activity_action_areas", named=("ix_activity_action_areas_area",))
    drop_table("activity_transactions", "activity_id")
    drop_table("activity_sectors", "activity_id", named=("ix_activity_sectors_code",))
    drop_table("activity_results", "activity_id")
    drop_table("activity_progress_updates", "activity_id")
    drop_table("activity_priority_areas", named=("ix_activity_priority_areas_area",))
    drop_table("activity_policy_markers", "activity_id")
    drop_table("activity_participants", "activity_id", named=("ix_activity_participants_org",))
    drop_table("activity_locations", "activity_id")
    drop_table("activity_document_links", "activity_id")
    drop_table("activity_budgets", "activity_id")
    drop_table(
        "activities", "lead_org_id", "program_id", "status", named=("ix_activities_updated_at_id",)
    )
    drop_table("sync_clock")
    drop_table("idempotency_keys")
    drop_table("activity_history", "activity_id")
    drop_table("activity_changes", "activity_id", "program_id")
