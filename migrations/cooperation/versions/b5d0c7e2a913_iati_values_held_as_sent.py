"""IATI values held as sent: any code, any text length, exact decimals, hierarchy, the
dates and descriptions without a column of their own (created 2026-12-02).

Codes (activity status, participant role, vocabularies, types, currencies) become text,
and the checks that held status to 1-6 and role to 1-4 go: an IATI import keeps whatever
code the schema allows. Titles, names, refs, URLs, formats and indicator values become
unbounded text; identifiers may have 500 characters. Money and percentages, stored until
now as integer hundredths, become exact decimals of any scale: ``NUMERIC`` on PostgreSQL,
their decimal text on SQLite (which has no exact decimal type). Locations keep a name and
may have no ref; activities get ``hierarchy`` (2, the value every existing activity was
exported with), ``other_dates`` and ``other_descriptions``.

The downgrade converts back what Enlace itself could have written; values only an import
can bring (codes that are not numbers, more than two decimal places, locations without a
department) do not fit the old columns and make it fail or are dropped.
"""

import sqlalchemy as sa
from alembic import op

revision = "b5d0c7e2a913"
down_revision = "f3dd9a465e39"

# Names of the INEI departments 01-25, which the locations so far were.
DEPARTMENTS = (
    "Amazonas", "Áncash", "Apurímac", "Arequipa", "Ayacucho", "Cajamarca", "Callao", "Cusco",
    "Huancavelica", "Huánuco", "Ica", "Junín", "La Libertad", "Lambayeque", "Lima", "Loreto",
    "Madre de Dios", "Moquegua", "Pasco", "Piura", "Puno", "San Martín", "Tacna", "Tumbes",
    "Ucayali",
)  # fmt: skip
# Text columns by table: (column, old type, nullable).
TEXTS: dict[str, list[tuple[str, sa.types.TypeEngine[str], bool]]] = {
    "activities": [
        ("title_en", sa.String(500), False),
        ("title_es", sa.String(500), True),
        ("default_currency", sa.String(3), True),
    ],
    "activity_participants": [
        ("ref", sa.String(100), True),
        ("name", sa.String(300), True),
        ("org_type", sa.String(3), True),
    ],
    "activity_sectors": [("vocabulary", sa.String(3), False)],
    "activity_policy_markers": [
        ("vocabulary", sa.String(3), False),
        ("code", sa.String(10), False),
        ("significance", sa.String(2), True),
    ],
    "activity_budgets": [
        ("type", sa.String(2), False),
        ("status", sa.String(2), False),
        ("currency", sa.String(3), True),
    ],
    "activity_transactions": [
        ("type", sa.String(2), False),
        ("currency", sa.String(3), True),
        ("provider_ref", sa.String(100), True),
        ("provider_name", sa.String(300), True),
        ("provider_type", sa.String(3), True),
        ("receiver_ref", sa.String(100), True),
        ("receiver_name", sa.String(300), True),
        ("receiver_type", sa.String(3), True),
    ],
    "activity_document_links": [
        ("url", sa.String(2000), False),
        ("format", sa.String(100), False),
        ("title", sa.String(500), False),
        ("category", sa.String(3), False),
        ("language", sa.String(2), True),
    ],
    "activity_results": [("type", sa.String(2), False), ("title", sa.String(500), False)],
    "result_indicators": [
        ("measure", sa.String(2), False),
        ("title", sa.String(500), False),
        ("baseline_value", sa.String(100), True),
    ],
    "indicator_periods": [("target", sa.String(100), True), ("actual", sa.String(100), True)],
}
# Exact decimals, stored as integer hundredths until now: (table, column, nullable).
DECIMALS = (
    ("activity_sectors", "percentage", True),
    ("activity_budgets", "value", False),
    ("activity_transactions", "value", False),
)


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _decimal() -> sa.types.TypeEngine[object]:
    return sa.Numeric() if _postgres() else sa.Text()


def _set(table: str, column: str, expression: str) -> None:
    """SQLite: rewrite every value of a column (names and expression are this file's own)."""
    op.execute(f"UPDATE {table} SET {column} = {expression} WHERE {column} IS NOT NULL")  # noqa: S608


def _name_locations() -> None:
    named = sa.text("UPDATE activity_locations SET name = :name WHERE department = :code")
    for number, name in enumerate(DEPARTMENTS, 1):
        op.execute(named.bindparams(name=name, code=f"{number:02d}"))


def upgrade() -> None:
    pg = _postgres()
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_activities_status"), type_="check")
        batch_op.alter_column(
            "identifier",
            existing_type=sa.String(150),
            type_=sa.String(500),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "status",
            existing_type=sa.SmallInteger(),
            type_=sa.String(500),
            existing_nullable=False,
            postgresql_using="status::text",
        )
        batch_op.add_column(sa.Column("hierarchy", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("other_dates", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("other_descriptions", sa.JSON(), nullable=True))
    op.execute("UPDATE activities SET hierarchy = 2")
    with op.batch_alter_table("activity_participants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_activity_participants_role"), type_="check")
        batch_op.alter_column(
            "role",
            existing_type=sa.SmallInteger(),
            type_=sa.Text(),
            existing_nullable=False,
            postgresql_using="role::text",
        )
    with op.batch_alter_table("activity_sectors", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(20), type_=sa.String(500), existing_nullable=False
        )
    with op.batch_alter_table("activity_locations", schema=None) as batch_op:
        batch_op.alter_column(
            "department", existing_type=sa.String(2), type_=sa.Text(), nullable=True
        )
        batch_op.add_column(sa.Column("name", sa.Text(), nullable=True))
    _name_locations()
    for table, columns in TEXTS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, old, nullable in columns:
                batch_op.alter_column(
                    column, existing_type=old, type_=sa.Text(), existing_nullable=nullable
                )
    for table, column, nullable in DECIMALS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=sa.BigInteger(),
                type_=_decimal(),
                existing_nullable=nullable,
                postgresql_using=f"{column}::numeric * 0.01",
            )
        if not pg:
            # The hundredths were copied as text ("12550"): write them as decimals ("125.50").
            cents = f"abs(CAST({column} AS INTEGER))"
            sign = f"CASE WHEN CAST({column} AS INTEGER) < 0 THEN '-' ELSE '' END"
            _set(
                table,
                column,
                f"({sign}) || ({cents} / 100) || '.' || substr('0' || ({cents} % 100), -2)",
            )
    for table in ("activity_changes", "activity_history"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "identifier",
                existing_type=sa.String(150),
                type_=sa.String(500),
                existing_nullable=False,
            )


def downgrade() -> None:
    pg = _postgres()
    for table in ("activity_history", "activity_changes"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "identifier",
                existing_type=sa.String(500),
                type_=sa.String(150),
                existing_nullable=False,
            )
    for table, column, nullable in DECIMALS:
        if not pg:
            _set(table, column, f"CAST(round(CAST({column} AS REAL) * 100) AS INTEGER)")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                column,
                existing_type=_decimal(),
                type_=sa.BigInteger(),
                existing_nullable=nullable,
                postgresql_using=f"round({column} * 100)::bigint",
            )
    for table, columns in TEXTS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, old, nullable in columns:
                batch_op.alter_column(
                    column, existing_type=sa.Text(), type_=old, existing_nullable=nullable
                )
    op.execute("DELETE FROM activity_locations WHERE department IS NULL")
    with op.batch_alter_table("activity_locations", schema=None) as batch_op:
        batch_op.drop_column("name")
        batch_op.alter_column(
            "department", existing_type=sa.Text(), type_=sa.String(2), nullable=False
        )
    with op.batch_alter_table("activity_sectors", schema=None) as batch_op:
        batch_op.alter_column(
            "code", existing_type=sa.String(500), type_=sa.String(20), existing_nullable=False
        )
    with op.batch_alter_table("activity_participants", schema=None) as batch_op:
        batch_op.alter_column(
            "role",
            existing_type=sa.Text(),
            type_=sa.SmallInteger(),
            existing_nullable=False,
            postgresql_using="role::smallint",
        )
        batch_op.create_check_constraint(
            op.f("ck_activity_participants_role"), "role BETWEEN 1 AND 4"
        )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("other_descriptions")
        batch_op.drop_column("other_dates")
        batch_op.drop_column("hierarchy")
        batch_op.alter_column(
            "status",
            existing_type=sa.String(500),
            type_=sa.SmallInteger(),
            existing_nullable=False,
            postgresql_using="status::smallint",
        )
        batch_op.alter_column(
            "identifier",
            existing_type=sa.String(500),
            type_=sa.String(150),
            existing_nullable=False,
        )
        batch_op.create_check_constraint(op.f("ck_activities_status"), "status BETWEEN 1 AND 6")
