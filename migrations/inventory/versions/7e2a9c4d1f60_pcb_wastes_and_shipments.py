"""PCB wastes and shipments (issue 13 item 6): stored waste lots of a holder in a PCB
submission (with the items they came from), shipments for disposal (Basel notification and
movement documents, facility, country, Annex IV operation, dates, mass) and what each
carries; an item's elimination evidence may name its shipment.

Revision ID: 7e2a9c4d1f60
Revises: 4dda2c572a5c
Create Date: 2026-12-02 00:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e2a9c4d1f60"
down_revision: str | None = "4dda2c572a5c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pcb_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("notification_number", sa.String(length=40), nullable=False),
        sa.Column("movement_document_numbers", sa.JSON(), nullable=False),
        sa.Column("exporter", sa.String(length=300), nullable=False),
        sa.Column("carrier", sa.String(length=300), nullable=False),
        sa.Column("facility_name", sa.String(length=300), nullable=False),
        sa.Column("facility_country", sa.String(length=2), nullable=False),
        sa.Column("disposal_operation", sa.String(length=3), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("disposed_on", sa.Date(), nullable=True),
        sa.Column("certificate_ref", sa.String(length=100), nullable=True),
        sa.Column("mass_kg", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_pcb_shipments_holder_id_holders")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_pcb_shipments_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pcb_shipments")),
    )
    with op.batch_alter_table("pcb_shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pcb_shipments_holder_id"), ["holder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pcb_shipments_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index("ix_pcb_shipments_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "pcb_waste_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("lot_ref", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("mass_kg", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("pcb_mg_per_kg", sa.Numeric(precision=14, scale=3), nullable=True),
        sa.Column("concentration_basis", sa.String(length=20), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("storage_address", sa.String(length=500), nullable=True),
        sa.Column("ubigeo", sa.String(length=6), nullable=False),
        sa.Column("department_code", sa.String(length=2), nullable=False),
        sa.Column("stored_since", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["holders.id"], name=op.f("fk_pcb_waste_lots_holder_id_holders")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_pcb_waste_lots_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_pcb_waste_lots_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pcb_waste_lots")),
        sa.UniqueConstraint(
            "submission_id",
            "holder_id",
            "lot_ref",
            name=op.f("uq_pcb_waste_lots_submission_id_holder_id_lot_ref"),
        ),
    )
    with op.batch_alter_table("pcb_waste_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pcb_waste_lots_holder_id"), ["holder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pcb_waste_lots_submission_id"), ["submission_id"], unique=False
        )
        batch_op.create_index("ix_pcb_waste_lots_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "pcb_shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("mass_kg", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["pcb_items.id"], name=op.f("fk_pcb_shipment_lines_item_id_pcb_items")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["pcb_waste_lots.id"],
            name=op.f("fk_pcb_shipment_lines_lot_id_pcb_waste_lots"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["pcb_shipments.id"],
            name=op.f("fk_pcb_shipment_lines_shipment_id_pcb_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pcb_shipment_lines")),
        # A lot or an item travels in one shipment only.
        sa.UniqueConstraint("item_id", name=op.f("uq_pcb_shipment_lines_item_id")),
        sa.UniqueConstraint("lot_id", name=op.f("uq_pcb_shipment_lines_lot_id")),
    )
    with op.batch_alter_table("pcb_shipment_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pcb_shipment_lines_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "pcb_waste_sources",
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["pcb_items.id"], name=op.f("fk_pcb_waste_sources_item_id_pcb_items")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["pcb_waste_lots.id"],
            name=op.f("fk_pcb_waste_sources_lot_id_pcb_waste_lots"),
        ),
        sa.PrimaryKeyConstraint("lot_id", "item_id", name=op.f("pk_pcb_waste_sources")),
    )
    with op.batch_alter_table("pcb_waste_sources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pcb_waste_sources_item_id"), ["item_id"], unique=False)

    with op.batch_alter_table("pcb_status_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_pcb_status_events_shipment_id"), ["shipment_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_pcb_status_events_shipment_id_pcb_shipments"),
            "pcb_shipments",
            ["shipment_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("pcb_status_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_pcb_status_events_shipment_id_pcb_shipments"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_pcb_status_events_shipment_id"))
        batch_op.drop_column("shipment_id")

    with op.batch_alter_table("pcb_waste_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pcb_waste_sources_item_id"))

    op.drop_table("pcb_waste_sources")
    with op.batch_alter_table("pcb_shipment_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pcb_shipment_lines_shipment_id"))

    op.drop_table("pcb_shipment_lines")
    with op.batch_alter_table("pcb_waste_lots", schema=None) as batch_op:
        batch_op.drop_index("ix_pcb_waste_lots_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_pcb_waste_lots_submission_id"))
        batch_op.drop_index(batch_op.f("ix_pcb_waste_lots_holder_id"))

    op.drop_table("pcb_waste_lots")
    with op.batch_alter_table("pcb_shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_pcb_shipments_updated_at_id")
        batch_op.drop_index(batch_op.f("ix_pcb_shipments_submission_id"))
        batch_op.drop_index(batch_op.f("ix_pcb_shipments_holder_id"))

    op.drop_table("pcb_shipments")
