"""The migration that gives activities their recipient countries and regions reads them
from the IATI XML kept as sent for the activities already there (Peru for the others)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from tests.conftest import alembic_config, in_thread
from tests.cooperation.test_migration_iati_values import _run
from tests.test_migrations import scratch_url  # noqa: F401 - the fixture

BEFORE, AFTER = "d7a41c93e5b2", "e8b3c1f4a297"
KEPT = (
    '<iati-activity><iati-identifier>X-1</iati-identifier><recipient-country code="AF" '
    'percentage="50"/><recipient-country percentage="50" code="AG"/><recipient-region '
    'code="489"/><transaction><recipient-country code="BO"/></transaction></iati-activity>'
)


def _insert(conn: Connection) -> None:
    conn.execute(sa.text("INSERT INTO organisations (id, code, name_es, name_en, iati_type, "
                         "version, created_at, updated_at) VALUES (1, 'EPA', 'E', 'E', '10', 1, "
                         "'2020-01-01', '2020-01-01')"))  # fmt: skip
    conn.execute(sa.text("INSERT INTO work_programs (id, code, title_en, title_es, agreement, "
                         "commission, period_start, period_end, version, created_at, updated_at) "
                         "VALUES (1, 'WP', 't', 't', 'a', 'c', '2020-01-01', '2020-12-31', 1, "
                         "'2020-01-01', '2020-01-01')"))  # fmt: skip
    per_transaction = (
        "<iati-activity><transaction><recipient-country code='PE'/></transaction><transaction>"
        "<recipient-country code='EC'/></transaction></iati-activity>"
    )
    for id_, xml in ((1, None), (2, KEPT), (3, per_transaction)):
        conn.execute(
            sa.text(
                "INSERT INTO activities (id, identifier, program_id, reporting_org_id, "
                "lead_org_id, title_en, status, visibility, version, created_at, updated_at, "
                "iati_xml) VALUES (:id, :identifier, 1, 1, 1, 't', '2', 'public', 1, "
                "'2020-01-01', '2020-01-01', :xml)"
            ),
            {"id": id_, "identifier": f"X-{id_}", "xml": xml},
        )


def test_recipients_are_read_from_the_kept_xml(scratch_url: str) -> None:  # noqa: F811
    config = alembic_config("cooperation", scratch_url)
    in_thread(lambda: command.upgrade(config, BEFORE))
    _run(scratch_url, _insert)
    in_thread(lambda: command.upgrade(config, AFTER))
    sql = "SELECT id, recipient_countries, recipient_regions FROM activities ORDER BY id"
    rows = _run(scratch_url, lambda c: [tuple(r) for r in c.execute(sa.text(sql))])
    assert rows == [(1, "PE", ""), (2, "AF AG", "489"), (3, "PE EC", "")]
    in_thread(lambda: command.downgrade(config, BEFORE))
