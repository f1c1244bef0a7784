"""activities get their recipient countries and regions (created 2026-12-02).

``recipient_countries`` and ``recipient_regions`` hold the codes an activity declares,
space-separated (``AF AG``), for the ``?recipient_country=`` and ``?recipient_region=``
filters. An activity entered here is Peru's (``PE``, no region); an imported one has what
its IATI XML as sent declares (``iati_xml``; on its transactions when the activity itself
declares none), read here for the rows that exist.
"""

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = "e8b3c1f4a297"
down_revision = "e8b1f4c27a95"


def upgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recipient_countries", sa.Text(), nullable=False, server_default="PE")
        )
        batch_op.add_column(
            sa.Column("recipient_regions", sa.Text(), nullable=False, server_default="")
        )
    bind = op.get_bind()
    table = sa.table(
        "activities",
        sa.column("id", sa.Integer),
        sa.column("iati_xml", sa.Text),
        sa.column("recipient_countries", sa.Text),
        sa.column("recipient_regions", sa.Text),
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    rows = bind.execute(
        sa.select(table.c.id, table.c.iati_xml).where(table.c.iati_xml.is_not(None))
    )
    for row_id, xml in list(rows):
        element = etree.fromstring(xml.encode(), parser)
        countries = _codes(element, "recipient-country")
        regions = _codes(element, "recipient-region")
        if not countries and not regions:  # declared on each transaction instead
            countries = _codes(element, "transaction/recipient-country")
            regions = _codes(element, "transaction/recipient-region")
        bind.execute(
            table.update()
            .where(table.c.id == row_id)
            .values(recipient_countries=countries, recipient_regions=regions)
        )


def _codes(element: etree._Element, path: str) -> str:
    """The distinct codes of the elements at ``path`` in an activity, space-separated."""
    found = (c.get("code", "").strip() for c in element.xpath(path))
    return " ".join(dict.fromkeys(code for code in found if code))


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("recipient_regions")
        batch_op.drop_column("recipient_countries")
