"""work programs get a sector (created 2026-12-01).

The program is exported as the parent IATI activity, and IATI ruleset 6.2.2 wants a sector
on every activity: ``sector`` is its DAC 5-digit code (vocabulary 1, 100 %). Existing rows
keep none until the seed fills it in (the 2015-2018 program: 41010).
"""

import sqlalchemy as sa
from alembic import op

revision = "d7a41c93e5b2"
down_revision = "d4a7e91c3b20"


def upgrade() -> None:
    with op.batch_alter_table("work_programs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sector", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_programs", schema=None) as batch_op:
        batch_op.drop_column("sector")
