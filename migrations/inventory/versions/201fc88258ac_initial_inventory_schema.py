"""initial inventory schema (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op

from migrations.ddl import create_indexes, create_versioned_table, drop_table, fk, pk, versioned

revision = "201fc88258ac"
down_revision = None


def upgrade() -> None:
    create_versioned_table(
        "holders",
        sa.Column("ruc", sa.String(length=11), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("sector", sa.String(length=60), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.UniqueConstraint("ruc", name=op.f("uq_holders_ruc")),
    )
    create_indexes("holders", "org_code")

    create_versioned_table(
        "sites",
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("ubigeo", sa.String(length=6), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("site_type", sa.String(length=20), nullable=False),
        fk("sites", "holder_id", "holders"),
    )
    create_indexes("sites", "holder_id", "ubigeo")

    create_versioned_table(
        "pcb_items",
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("equipment_type", sa.String(length=20), nullable=False),
        sa.Column("manufacturer", sa.String(length=200), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=False),
        sa.Column("country_of_origin", sa.String(length=2), nullable=True),
        sa.Column("year_manufactured", sa.Integer(), nullable=True),
        sa.Column("power_kva", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("voltage_kv", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("fluid_trade_name", sa.String(length=100), nullable=True),
        sa.Column("fluid_volume_l", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("fluid_mass_kg", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("dry_mass_kg", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("total_mass_kg", sa.Numeric(precision=12, scale=3), nullable=True),
        sa.Column("labelled", sa.Boolean(), nullable=False),
        sa.Column("leaking", sa.Boolean(), nullable=False),
        sa.Column("in_populated_area", sa.Boolean(), nullable=False),
        sa.Column("in_food_feed_area", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("status_since", sa.Date(), nullable=True),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        fk("pcb_items", "holder_id", "holders"),
        fk("pcb_items", "site_id", "sites"),
        sa.UniqueConstraint(
            "holder_id",
            "manufacturer",
            "serial_number",
            name=op.f("uq_pcb_items_holder_id_manufacturer_serial_number"),
        ),
    )
    create_indexes("pcb_items", "holder_id", "org_code", "site_id", "status")


def downgrade() -> None:
    drop_table("pcb_items", "holder_id", "org_code", "site_id", "status")
    drop_table("sites", "holder_id", "ubigeo")
    drop_table("holders", "org_code")
