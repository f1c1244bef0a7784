"""work programs get their texts in Spanish (created 2026-12-02).

The program's preamble, background, goals introduction, activities and benchmarks, each
priority area's objectives paragraph and each objective and action area get a Spanish
column beside the English one, and the program says whose Spanish it is
(``translation_es``: for the 2015-2018 program, our unofficial translation). Existing rows
keep none until the seed fills them in.
"""

import sqlalchemy as sa
from alembic import op

revision = "e8b1f4c27a95"
down_revision = "d7a41c93e5b2"

PROGRAM_TEXTS = (
    "preamble_es",
    "background_es",
    "goals_intro_es",
    "activities_es",
    "benchmarks_es",
    "translation_es",
)
COLUMNS = (
    ("work_programs", PROGRAM_TEXTS),
    ("priority_areas", ("objectives_es",)),
    ("objectives", ("text_es",)),
    ("action_areas", ("text_es",)),
)


def upgrade() -> None:
    for table, names in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in names:
                batch_op.add_column(sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    for table, names in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(names):
                batch_op.drop_column(name)
