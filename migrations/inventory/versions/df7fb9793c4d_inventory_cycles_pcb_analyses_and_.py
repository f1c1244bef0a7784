"""inventory cycles, PCB analyses and status history, thresholds, history (created 2026-11-22)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from migrations.ddl import (
    create_idempotency_keys,
    create_indexes,
    create_versioned_table,
    drop_table,
    fk,
    pk,
    versioned,
)

revision = "df7fb9793c4d"
down_revision = "201fc88258ac"

# The columns ix_pcb_items_summary carries (PostgreSQL INCLUDE), as pcb/models.py lists them.
SUMMARY_INCLUDE = [
    "status",
    "conc_kind",
    "conc_value_mg_per_kg",
    "conc_source",
    "fluid_volume_l",
    "year_manufactured",
    "fluid_kind",
    "fluid_mass_kg",
    "total_mass_kg",
    "labelled",
    "in_food_feed_area",
    "department_code",
    "holder_id",
]


def upgrade() -> None:
    op.create_table(
        "change_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before_json", sa.Text(), nullable=True),
        sa.Column("after_json", sa.Text(), nullable=True),
        pk("change_records"),
    )
    create_indexes(
        "change_records", "at", named={"ix_change_records_entity": ["entity", "entity_id"]}
    )

    op.create_table(
        "fluid_densities",
        sa.Column("fluid_kind", sa.String(length=20), nullable=False),
        sa.Column("density_kg_per_l", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        *versioned(),
        pk("fluid_densities", "fluid_kind"),
    )
    create_idempotency_keys()
    create_versioned_table(
        "pcb_thresholds",
        sa.Column("p1_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("p2_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("p3_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("large_volume_l", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("small_volume_l", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("use_deadline", sa.Date(), nullable=False),
        sa.Column("esm_deadline", sa.Date(), nullable=False),
        sa.Column("presumed_before_year", sa.Integer(), nullable=False),
        sa.Column("presumed_min_volume_l", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
    )
    create_versioned_table(
        "submissions",
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("correction_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True),
        fk("submissions", "superseded_by_id", "submissions"),
        fk("submissions", "supersedes_id", "submissions"),
    )
    create_indexes(
        "submissions",
        "org_code",
        named={"ix_submissions_year_section_status": ["year", "section", "status"]},
    )

    op.create_table(
        "submission_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        fk("submission_events", "submission_id", "submissions"),
        pk("submission_events"),
    )
    create_indexes("submission_events", "submission_id")

    op.create_table(
        "pcb_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("analysed_on", sa.Date(), nullable=False),
        sa.Column("sample_ref", sa.String(length=100), nullable=False),
        sa.Column("value_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("screening_cutoff_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("screening_positive", sa.Boolean(), nullable=True),
        sa.Column("technique", sa.String(length=100), nullable=True),
        sa.Column("laboratory", sa.String(length=200), nullable=True),
        sa.Column("report_ref", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        fk("pcb_analyses", "item_id", "pcb_items"),
        pk("pcb_analyses"),
        sa.UniqueConstraint(
            "item_id",
            "method",
            "analysed_on",
            "sample_ref",
            name=op.f("uq_pcb_analyses_item_id_method_analysed_on_sample_ref"),
        ),
    )
    create_indexes("pcb_analyses", "item_id")

    op.create_table(
        "pcb_status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=True),
        sa.Column("to_status", sa.String(length=30), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("disposal_facility", sa.String(length=200), nullable=True),
        sa.Column("disposal_country", sa.String(length=2), nullable=True),
        sa.Column("disposed_on", sa.Date(), nullable=True),
        sa.Column("certificate_ref", sa.String(length=100), nullable=True),
        sa.Column("disposed_mass_kg", sa.Numeric(precision=12, scale=3), nullable=True),
        fk("pcb_status_events", "item_id", "pcb_items"),
        pk("pcb_status_events"),
    )
    create_indexes("pcb_status_events", "item_id")

    # Items recorded before inventory cycles existed go into one draft PCB submission per
    # organisation; their department comes from their site; their concentration is unknown
    # until analyses are recorded.
    with op.batch_alter_table("pcb_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fluid_kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("department_code", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("conc_kind", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("conc_value_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=True)
        )
        batch_op.add_column(sa.Column("conc_source", sa.String(length=10), nullable=True))
    op.execute(
        "INSERT INTO submissions (org_code, year, section, status, revision, created_by, "
        "created_at, updated_at, version) SELECT DISTINCT org_code, 2025, 'pcb', 'draft', 1, "
        "'migration', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 FROM pcb_items"
    )
    op.execute(
        "INSERT INTO submission_events (submission_id, from_status, to_status, at, client_id, "
        "org_code, comment) SELECT id, NULL, 'draft', CURRENT_TIMESTAMP, 'migration', org_code, "
        "'items recorded before inventory cycles' FROM submissions WHERE created_by = 'migration'"
    )
    op.execute(
        "UPDATE pcb_items SET conc_kind = 'unknown', "
        "submission_id = (SELECT s.id FROM submissions s WHERE s.org_code = pcb_items.org_code "
        "AND s.created_by = 'migration'), "
        "department_code = (SELECT substr(t.ubigeo, 1, 2) FROM sites t WHERE t.id = pcb_items.site_id)"
    )
    with op.batch_alter_table("pcb_items", schema=None) as batch_op:
        batch_op.alter_column("submission_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("department_code", existing_type=sa.String(length=2), nullable=False)
        batch_op.alter_column("conc_kind", existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_constraint(
            batch_op.f("uq_pcb_items_holder_id_manufacturer_serial_number"), type_="unique"
        )
        batch_op.create_index(
            batch_op.f("ix_pcb_items_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            "ix_pcb_items_summary",
            ["submission_id"],
            unique=False,
            postgresql_include=SUMMARY_INCLUDE,
        )
        batch_op.create_index("ix_pcb_items_updated_at_id", ["updated_at", "id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_pcb_items_submission_id_holder_id_manufacturer_serial_number"),
            ["submission_id", "holder_id", "manufacturer", "serial_number"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_pcb_items_submission_id_submissions"),
            "submissions",
            ["submission_id"],
            ["id"],
        )

    # Defaults are the Stockholm Convention's (Annex A Part II); a country plan may replace
    # them through PUT /v1/pcb-thresholds.
    thresholds = sa.table(
        "pcb_thresholds",
        sa.column("id", sa.Integer()),
        sa.column("p1_mg_per_kg", sa.Numeric()),
        sa.column("p2_mg_per_kg", sa.Numeric()),
        sa.column("p3_mg_per_kg", sa.Numeric()),
        sa.column("large_volume_l", sa.Numeric()),
        sa.column("small_volume_l", sa.Numeric()),
        sa.column("use_deadline", sa.Date()),
        sa.column("esm_deadline", sa.Date()),
        sa.column("presumed_before_year", sa.Integer()),
        sa.column("presumed_min_volume_l", sa.Numeric()),
        sa.column("provenance", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("version", sa.Integer()),
    )
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        thresholds,
        [
            {
                "id": 1,
                "p1_mg_per_kg": Decimal("100000"),
                "p2_mg_per_kg": Decimal("500"),
                "p3_mg_per_kg": Decimal("50"),
                "large_volume_l": Decimal("5"),
                "small_volume_l": Decimal("0.05"),
                "use_deadline": date(2025, 12, 31),
                "esm_deadline": date(2028, 12, 31),
                "presumed_before_year": 1987,
                "presumed_min_volume_l": Decimal("5"),
                "provenance": (
                    "Stockholm Convention, Annex A Part II: > 10 % / > 0.05 % with > 5 L, "
                    "> 0.005 % with > 0.05 L; use eliminated by 2025, ESM no later than 2028 "
                    "(taken as 31 December). Presumed PCB: manufactured before 1987 with "
                    "more than 5 L of fluid (a common inventory rule, to verify against the "
                    "national plan)."
                ),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        ],
    )
    densities = sa.table(
        "fluid_densities",
        sa.column("fluid_kind", sa.String()),
        sa.column("density_kg_per_l", sa.Numeric()),
        sa.column("provenance", sa.Text()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("version", sa.Integer()),
    )
    op.bulk_insert(
        densities,
        [
            {
                "fluid_kind": "askarel",
                "density_kg_per_l": Decimal("1.5"),
                "provenance": "Askarels roughly 1.4-1.5 kg/L (DOMAIN.md section 1); to verify "
                "per product.",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            },
            {
                "fluid_kind": "mineral_oil",
                "density_kg_per_l": Decimal("0.88"),
                "provenance": "Mineral insulating oil about 0.88 kg/L (DOMAIN.md section 1); "
                "to verify.",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            },
        ],
    )


def downgrade() -> None:
    drop_table("pcb_status_events", "item_id")
    drop_table("pcb_analyses", "item_id")
    # Copies made by corrections would break the old natural key: keep the first of each.
    op.execute(
        "DELETE FROM pcb_items WHERE id NOT IN (SELECT min(id) FROM pcb_items "
        "GROUP BY holder_id, manufacturer, serial_number)"
    )
    with op.batch_alter_table("pcb_items", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_pcb_items_submission_id_submissions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_pcb_items_submission_id_holder_id_manufacturer_serial_number"),
            type_="unique",
        )
        batch_op.drop_index("ix_pcb_items_updated_at_id")
        batch_op.drop_index(
            "ix_pcb_items_summary",
            postgresql_include=SUMMARY_INCLUDE,
        )
        batch_op.drop_index(batch_op.f("ix_pcb_items_department_code"))
        batch_op.create_unique_constraint(
            batch_op.f("uq_pcb_items_holder_id_manufacturer_serial_number"),
            ["holder_id", "manufacturer", "serial_number"],
        )
        batch_op.drop_column("conc_source")
        batch_op.drop_column("conc_value_mg_per_kg")
        batch_op.drop_column("conc_kind")
        batch_op.drop_column("department_code")
        batch_op.drop_column("fluid_kind")
        batch_op.drop_column("submission_id")

    drop_table("submission_events", "submission_id")
    drop_table("submissions", "org_code", named=("ix_submissions_year_section_status",))
    drop_table("pcb_thresholds")
    drop_table("idempotency_keys")
    drop_table("fluid_densities")
    drop_table("change_records", "at", named=("ix_change_records_entity",))
