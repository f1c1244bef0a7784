"""The migration to IATI values held as sent converts the data already there: integer
hundredths become exact decimals, status and role codes text, locations get their
department's name, activities hierarchy 2; and the downgrade converts them back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from tests.conftest import alembic_config, in_thread
from tests.test_migrations import _inspect, scratch_url  # noqa: F401 - the fixture

BEFORE, AFTER = "f3dd9a465e39", "b5d0c7e2a913"
ROWS: list[tuple[str, dict[str, Any]]] = [
    ("organisations", {"id": 1, "code": "EPA", "iati_ref": "PE-ENLACE-EPA"}),
    ("work_programs", {"id": 1, "code": "WP", "reporting_org_id": 1}),
    (
        "activities",
        {
            "id": 1,
            "identifier": "PE-ENLACE-EPA-1",
            "program_id": 1,
            "reporting_org_id": 1,
            "lead_org_id": 1,
            "status": 4,
            "visibility": "public",
        },
    ),
    ("activity_participants", {"id": 1, "activity_id": 1, "role": 2, "name": "Someone"}),
    ("activity_sectors", {"id": 1, "activity_id": 1, "code": "41010", "percentage": 3333}),
    ("activity_budgets", {"id": 1, "activity_id": 1, "value": 12550}),
    ("activity_budgets", {"id": 2, "activity_id": 1, "value": -5}),
    ("activity_transactions", {"id": 1, "activity_id": 1, "value": -1234567}),
    ("activity_locations", {"id": 1, "activity_id": 1, "department": "15"}),
]
FILLERS: list[tuple[type[sa.types.TypeEngine[Any]], Any]] = [
    (sa.Boolean, False),
    (sa.Integer, 1),
    (sa.DateTime, datetime(2020, 1, 1, tzinfo=UTC)),
    (sa.Date, date(2020, 1, 1)),
    (sa.Numeric, 1),
    (sa.String, "x"),
]


def _insert(conn: Connection) -> None:
    """``ROWS``, every other required column filled with a value of its type."""
    inspector = sa.inspect(conn)
    for table, values in ROWS:
        row = dict(values)
        for column in inspector.get_columns(table):
            if column["name"] in row or column["nullable"]:
                continue
            row[column["name"]] = next(v for t, v in FILLERS if isinstance(column["type"], t))
        names = ", ".join(row)
        marks = ", ".join(f":{n}" for n in row)
        conn.execute(sa.text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), row)  # noqa: S608


def _read(conn: Connection) -> dict[str, Any]:
    def values(sql: str) -> list[Any]:
        return [r[0] for r in conn.execute(sa.text(sql))]

    return {
        "status": values("SELECT status FROM activities"),
        "role": values("SELECT role FROM activity_participants"),
        "percentage": values("SELECT percentage FROM activity_sectors"),
        "budgets": values("SELECT value FROM activity_budgets ORDER BY id"),
        "transactions": values("SELECT value FROM activity_transactions"),
    }


def _run(url: str, fn: Any) -> Any:
    def in_transaction(conn: Connection) -> Any:
        result = fn(conn)
        conn.commit()
        return result

    return _inspect(url, in_transaction)


def test_the_data_there_is_converted_both_ways(scratch_url: str) -> None:  # noqa: F811
    config = alembic_config("cooperation", scratch_url)
    in_thread(lambda: command.upgrade(config, BEFORE))
    _run(scratch_url, _insert)
    in_thread(lambda: command.upgrade(config, AFTER))
    after = _run(scratch_url, _read)
    assert (after["status"], after["role"]) == (["4"], ["2"])
    exact = {k: [Decimal(str(v)) for v in after[k]] for k in ("percentage", "budgets")}
    assert exact == {
        "percentage": [Decimal("33.33")],
        "budgets": [Decimal("125.50"), Decimal("-0.05")],
    }
    assert [Decimal(str(v)) for v in after["transactions"]] == [Decimal("-12345.67")]
    extra = _run(
        scratch_url,
        lambda c: (
            list(c.execute(sa.text("SELECT department, name FROM activity_locations"))),
            list(c.execute(sa.text("SELECT hierarchy FROM activities"))),
        ),
    )
    assert [tuple(r) for r in extra[0]] == [("15", "Lima")]
    assert [tuple(r) for r in extra[1]] == [(2,)]
    in_thread(lambda: command.downgrade(config, BEFORE))
    before = _run(scratch_url, _read)
    assert before == {
        "status": [4],
        "role": [2],
        "percentage": [3333],
        "budgets": [12550, -5],
        "transactions": [-1234567],
    }
