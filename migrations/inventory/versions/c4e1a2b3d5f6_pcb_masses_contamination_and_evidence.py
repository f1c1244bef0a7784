"""PCB masses never silently zero: summary cells count how masses were obtained and
whether the fluid is contaminated whatever its volume; the summary index carries the dry
mass; silicone and ester densities; items keep the date of their effective concentration
(to verify a decontamination) (issue 12).

Revision ID: c4e1a2b3d5f6
Revises: 965659f3e627
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "c4e1a2b3d5f6"
down_revision: str | None = "965659f3e627"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_INCLUDE = [
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
# As pcb/models.py SUMMARY_COLUMNS lists them.
_NEW_INCLUDE = [*_OLD_INCLUDE[:8], "dry_mass_kg", *_OLD_INCLUDE[8:]]

_DENSITIES = {
    "silicone_oil": (
        Decimal("0.96"),
        "Silicone insulating liquid (polydimethylsiloxane, IEC 60836) about 0.96 kg/L at "
        "20 °C; to verify per product.",
    ),
    "ester": (
        Decimal("0.92"),
        "Natural ester insulating liquid (IEC 62770) about 0.92 kg/L at 20 °C; synthetic "
        "esters (IEC 61099) about 0.97; to verify per product.",
    ),
}


def _summary_index(include: list[str]) -> None:
    with op.batch_alter_table("pcb_items") as batch_op:
        batch_op.drop_index("ix_pcb_items_summary")
        batch_op.create_index(
            "ix_pcb_items_summary", ["submission_id"], unique=False, postgresql_include=include
        )


def upgrade() -> None:
    # Cells of the previous layout no longer count (cells.CELLS_VERSION): drop them, the
    # reports aggregate the items until a validation or new thresholds recompute them.
    op.execute("DELETE FROM pcb_summary_cells")
    with op.batch_alter_table("pcb_summary_cells") as batch_op:
        batch_op.add_column(sa.Column("fluid_basis", sa.String(length=40), nullable=False))
        batch_op.add_column(sa.Column("total_basis", sa.String(length=20), nullable=False))
        batch_op.add_column(sa.Column("contaminated", sa.Boolean(), nullable=False))
    _summary_index(_NEW_INCLUDE)
    with op.batch_alter_table("pcb_items") as batch_op:
        batch_op.add_column(sa.Column("conc_analysed_on", sa.Date(), nullable=True))
    # The date of each item's effective concentration: its latest GC, else nameplate,
    # else screening (ties on a date do not matter: only the date is kept).
    op.execute(
        "UPDATE pcb_items SET conc_analysed_on = (SELECT max(a.analysed_on) FROM "
        "pcb_analyses a WHERE a.item_id = pcb_items.id AND a.method = pcb_items.conc_source)"
        " WHERE conc_source IS NOT NULL"
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
    present = {
        r[0] for r in op.get_bind().execute(sa.text("SELECT fluid_kind FROM fluid_densities"))
    }
    now = datetime.now(UTC)
    rows = [
        {
            "fluid_kind": kind,
            "density_kg_per_l": density,
            "provenance": provenance,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for kind, (density, provenance) in _DENSITIES.items()
        if kind not in present
    ]
    if rows:
        op.bulk_insert(densities, rows)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM fluid_densities WHERE fluid_kind IN ('silicone_oil', 'ester')"))
    with op.batch_alter_table("pcb_items") as batch_op:
        batch_op.drop_column("conc_analysed_on")
    _summary_index(_OLD_INCLUDE)
    op.execute("DELETE FROM pcb_summary_cells")
    with op.batch_alter_table("pcb_summary_cells") as batch_op:
        batch_op.drop_column("contaminated")
        batch_op.drop_column("total_basis")
        batch_op.drop_column("fluid_basis")
