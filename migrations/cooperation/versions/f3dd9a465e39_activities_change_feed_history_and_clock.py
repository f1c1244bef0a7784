"""activities, change feed, history and commit clock

Revision ID: f3dd9a465e39
Revises: c1212a5a708c
Create Date: 2026-11-22 04:09:12.917655
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3dd9a465e39"
down_revision: str | None = "c1212a5a708c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_activity_changes")),
    )
    with op.batch_alter_table("activity_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_changes_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_changes_program_id"), ["program_id"], unique=False
        )

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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_history")),
    )
    with op.batch_alter_table("activity_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_history_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "sync_clock",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("stamp", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_clock")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
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
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "visibility IN ('public', 'partners', 'participants')",
            name=op.f("ck_activities_visibility"),
        ),
        sa.CheckConstraint("status BETWEEN 1 AND 6", name=op.f("ck_activities_status")),
        sa.ForeignKeyConstraint(
            ["lead_org_id"],
            ["organisations.id"],
            name=op.f("fk_activities_lead_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["work_programs.id"],
            name=op.f("fk_activities_program_id_work_programs"),
        ),
        sa.ForeignKeyConstraint(
            ["reporting_org_id"],
            ["organisations.id"],
            name=op.f("fk_activities_reporting_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint("identifier", name=op.f("uq_activities_identifier")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_lead_org_id"), ["lead_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activities_program_id"), ["program_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_status"), ["status"], unique=False)
        batch_op.create_index("ix_activities_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "activity_budgets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_budgets_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_budgets")),
    )
    with op.batch_alter_table("activity_budgets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_budgets_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_document_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("format", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=3), nullable=False),
        sa.Column("document_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_document_links_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_document_links")),
    )
    with op.batch_alter_table("activity_document_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_document_links_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_locations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_locations_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_locations")),
    )
    with op.batch_alter_table("activity_locations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_locations_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.SmallInteger(), nullable=False),
        sa.Column("ref", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("org_type", sa.String(length=3), nullable=True),
        sa.CheckConstraint("role BETWEEN 1 AND 4", name=op.f("ck_activity_participants_role")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_participants_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_activity_participants_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_participants")),
    )
    with op.batch_alter_table("activity_participants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_participants_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(
            "ix_activity_participants_org", ["organisation_id", "activity_id"], unique=False
        )

    op.create_table(
        "activity_policy_markers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("vocabulary", sa.String(length=3), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("significance", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_policy_markers_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_policy_markers")),
    )
    with op.batch_alter_table("activity_policy_markers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_policy_markers_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_priority_areas",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("priority_area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_priority_areas_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["priority_area_id"],
            ["priority_areas.id"],
            name=op.f("fk_activity_priority_areas_priority_area_id_priority_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "priority_area_id", name=op.f("pk_activity_priority_areas")
        ),
    )
    with op.batch_alter_table("activity_priority_areas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_priority_areas_area", ["priority_area_id", "activity_id"], unique=False
        )

    op.create_table(
        "activity_progress_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=True),
        sa.Column("text_es", sa.Text(), nullable=True),
        sa.Column("author_org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_progress_updates_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_org_id"],
            ["organisations.id"],
            name=op.f("fk_activity_progress_updates_author_org_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_progress_updates")),
    )
    with op.batch_alter_table("activity_progress_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_progress_updates_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("aggregation_status", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_results_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_results")),
    )
    with op.batch_alter_table("activity_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_results_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_sectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("vocabulary", sa.String(length=3), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("percentage", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_sectors_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_sectors")),
    )
    with op.batch_alter_table("activity_sectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_sectors_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index("ix_activity_sectors_code", ["code", "activity_id"], unique=False)

    op.create_table(
        "activity_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_transactions_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_transactions")),
    )
    with op.batch_alter_table("activity_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_transactions_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_action_areas",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("action_area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_area_id"],
            ["action_areas.id"],
            name=op.f("fk_activity_action_areas_action_area_id_action_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_action_areas_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "action_area_id", name=op.f("pk_activity_action_areas")
        ),
    )
    with op.batch_alter_table("activity_action_areas", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_action_areas_area", ["action_area_id", "activity_id"], unique=False
        )

    op.create_table(
        "result_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=2), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("ascending", sa.Boolean(), nullable=True),
        sa.Column("baseline_year", sa.Integer(), nullable=True),
        sa.Column("baseline_value", sa.String(length=100), nullable=True),
        sa.Column("baseline_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["activity_results.id"],
            name=op.f("fk_result_indicators_result_id_activity_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result_indicators")),
    )
    with op.batch_alter_table("result_indicators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_result_indicators_result_id"), ["result_id"], unique=False
        )

    op.create_table(
        "indicator_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("actual", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["result_indicators.id"],
            name=op.f("fk_indicator_periods_indicator_id_result_indicators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_periods")),
    )
    with op.batch_alter_table("indicator_periods", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_periods_indicator_id"), ["indicator_id"], unique=False
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

    with op.batch_alter_table("indicator_periods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indicator_periods_indicator_id"))

    op.drop_table("indicator_periods")
    with op.batch_alter_table("result_indicators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_indicators_result_id"))

    op.drop_table("result_indicators")
    with op.batch_alter_table("activity_action_areas", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_action_areas_area")

    op.drop_table("activity_action_areas")
    with op.batch_alter_table("activity_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_transactions_activity_id"))

    op.drop_table("activity_transactions")
    with op.batch_alter_table("activity_sectors", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_sectors_code")
        batch_op.drop_index(batch_op.f("ix_activity_sectors_activity_id"))

    op.drop_table("activity_sectors")
    with op.batch_alter_table("activity_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_results_activity_id"))

    op.drop_table("activity_results")
    with op.batch_alter_table("activity_progress_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_progress_updates_activity_id"))

    op.drop_table("activity_progress_updates")
    with op.batch_alter_table("activity_priority_areas", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_priority_areas_area")

    op.drop_table("activity_priority_areas")
    with op.batch_alter_table("activity_policy_markers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_policy_markers_activity_id"))

    op.drop_table("activity_policy_markers")
    with op.batch_alter_table("activity_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_participants_org")
        batch_op.drop_index(batch_op.f("ix_activity_participants_activity_id"))

    op.drop_table("activity_participants")
    with op.batch_alter_table("activity_locations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_locations_activity_id"))

    op.drop_table("activity_locations")
    with op.batch_alter_table("activity_document_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_document_links_activity_id"))

    op.drop_table("activity_document_links")
    with op.batch_alter_table("activity_budgets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_budgets_activity_id"))

    op.drop_table("activity_budgets")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_activities_status"))
        batch_op.drop_index(batch_op.f("ix_activities_program_id"))
        batch_op.drop_index(batch_op.f("ix_activities_lead_org_id"))

    op.drop_table("activities")
    op.drop_table("sync_clock")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("activity_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_history_activity_id"))

    op.drop_table("activity_history")
    with op.batch_alter_table("activity_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_changes_program_id"))
        batch_op.drop_index(batch_op.f("ix_activity_changes_activity_id"))

    op.drop_table("activity_changes")
