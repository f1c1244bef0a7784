"""sites unique by holder and name (import natural key) (created 2026-11-22)."""

import sqlalchemy as sa
from alembic import op

revision = "5a1c95111e9d"
down_revision = "a062393111f6"


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_sites_holder_id_name"), ["holder_id", "name"]
        )


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_sites_holder_id_name"), type_="unique")
