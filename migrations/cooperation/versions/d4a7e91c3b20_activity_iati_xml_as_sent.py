"""An imported activity keeps its ``iati-activity`` XML as the publisher sent it (created
2026-12-01).

``activities.iati_xml``: the element as received (comments and indentation dropped),
null for activities created through the API. The export writes what the API models from
the columns and everything else from this XML (``exchange/iati_merge.py``).
"""

import sqlalchemy as sa
from alembic import op

revision = "d4a7e91c3b20"
down_revision = "b5d0c7e2a913"


def upgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("iati_xml", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("iati_xml")
