"""UP-POPs emission factors and release estimates, mercury release estimates (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

from migrations.ddl import create_indexes, create_versioned_table, drop_table, fk, pk, versioned

revision = "f07a9702c405"
down_revision = "df7fb9793c4d"


def estimate_head() -> tuple[sa.Column[object], ...]:
    """How each release estimate starts: its id, its submission, the submitting agency."""
    return (
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
    )


def estimate_tail(table: str) -> tuple[SchemaItem, ...]:
    """How each release estimate ends: where, whose, a note, versioning, keys."""
    return (
        sa.Column("department_code", sa.String(length=2), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        *versioned(),
        fk(table, "holder_id", "holders"),
        fk(table, "submission_id", "submissions"),
        pk(table),
    )


def upgrade() -> None:
    create_versioned_table(
        "emission_factors",
        sa.Column("source_group", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("category_name", sa.String(length=300), nullable=False),
        sa.Column("class_no", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=300), nullable=False),
        sa.Column("pollutant", sa.String(length=20), nullable=False),
        sa.Column("vector", sa.String(length=10), nullable=False),
        sa.Column("value_kind", sa.String(length=5), nullable=False),
        sa.Column("value_ug_teq_per_unit", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("activity_unit", sa.String(length=20), nullable=False),
        sa.Column("teq_scheme", sa.String(length=20), nullable=False),
        sa.Column("toolkit_edition", sa.String(length=10), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint(
            "category",
            "class_no",
            "pollutant",
            "vector",
            "teq_scheme",
            "toolkit_edition",
            name="uq_emission_factors_key",
        ),
    )
    create_indexes("emission_factors", "source_group")

    op.create_table(
        "mercury_estimates",
        *estimate_head(),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("subcategory", sa.String(length=200), nullable=True),
        sa.Column("toolkit_level", sa.Integer(), nullable=False),
        sa.Column("activity_rate", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("activity_unit", sa.String(length=20), nullable=False),
        sa.Column("input_factor_kg_per_unit", sa.Numeric(precision=20, scale=9), nullable=False),
        sa.Column("input_factor_unit", sa.String(length=20), nullable=False),
        sa.Column("factor_provenance", sa.Text(), nullable=False),
        sa.Column("input_kg_per_year", sa.Numeric(precision=24, scale=3), nullable=False),
        *estimate_tail("mercury_estimates"),
    )
    create_indexes("mercury_estimates", "submission_id")

    op.create_table(
        "upops_estimates",
        *estimate_head(),
        sa.Column("source_group", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("class_no", sa.Integer(), nullable=False),
        sa.Column("pollutant", sa.String(length=20), nullable=False),
        sa.Column("teq_scheme", sa.String(length=20), nullable=False),
        sa.Column("toolkit_edition", sa.String(length=10), nullable=False),
        sa.Column("activity_rate", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("activity_unit", sa.String(length=20), nullable=False),
        *estimate_tail("upops_estimates"),
    )
    create_indexes("upops_estimates", "submission_id")

    op.create_table(
        "mercury_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estimate_id", sa.Integer(), nullable=False),
        sa.Column("pathway", sa.String(length=20), nullable=False),
        sa.Column("distribution_factor", sa.Numeric(precision=6, scale=5), nullable=False),
        sa.Column("release_kg_per_year", sa.Numeric(precision=24, scale=3), nullable=False),
        fk("mercury_releases", "estimate_id", "mercury_estimates"),
        pk("mercury_releases"),
        sa.UniqueConstraint(
            "estimate_id", "pathway", name=op.f("uq_mercury_releases_estimate_id_pathway")
        ),
    )
    create_indexes("mercury_releases", "estimate_id")

    op.create_table(
        "upops_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estimate_id", sa.Integer(), nullable=False),
        sa.Column("vector", sa.String(length=10), nullable=False),
        sa.Column("factor_id", sa.Integer(), nullable=True),
        sa.Column("factor_kind", sa.String(length=5), nullable=False),
        sa.Column("factor_ug_teq_per_unit", sa.Numeric(precision=20, scale=6), nullable=True),
        sa.Column("release_kind", sa.String(length=5), nullable=False),
        sa.Column("release_g_teq_per_year", sa.Numeric(precision=30, scale=12), nullable=True),
        fk("upops_releases", "estimate_id", "upops_estimates"),
        fk("upops_releases", "factor_id", "emission_factors"),
        pk("upops_releases"),
        sa.UniqueConstraint(
            "estimate_id", "vector", name=op.f("uq_upops_releases_estimate_id_vector")
        ),
    )
    create_indexes("upops_releases", "estimate_id")


def downgrade() -> None:
    drop_table("upops_releases", "estimate_id")
    drop_table("mercury_releases", "estimate_id")
    drop_table("upops_estimates", "submission_id")
    drop_table("mercury_estimates", "submission_id")
    drop_table("emission_factors", "source_group")
