"""Each service database migrates up and down, and its models agree with its migrations."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import (
    DB_PREFIX,
    METADATA,
    POSTGRES_URL,
    SERVICES,
    alembic_config,
    fresh_database,
    in_thread,
)


@pytest.fixture
def scratch_url(tmp_path: Path) -> str:
    """An empty database of its own (so the shared test databases stay migrated)."""
    url = (
        f"{POSTGRES_URL}/{DB_PREFIX}migrations"
        if POSTGRES_URL
        else f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
    )
    in_thread(lambda: fresh_database(url))
    return url


def _inspect(url: str, fn: Any) -> Any:
    async def go() -> Any:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            result = await conn.run_sync(fn)
        await engine.dispose()
        return result

    return in_thread(lambda: asyncio.run(go()))


def _diff(service: str, metadata: MetaData) -> Any:
    def compare(conn: Connection) -> Any:
        opts = {"compare_type": True, "version_table": f"alembic_version_{service}"}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, metadata)

    return compare


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_matches_models_and_downgrade_empties(service: str, scratch_url: str) -> None:
    config = alembic_config(service, scratch_url)
    in_thread(lambda: command.upgrade(config, "head"))

    tables = set(_inspect(scratch_url, lambda c: inspect(c).get_table_names()))
    assert set(METADATA[service].tables) <= tables
    assert f"alembic_version_{service}" in tables
    assert _inspect(scratch_url, _diff(service, METADATA[service])) == [], (
        "models and migrations disagree: add a migration (README: adding a migration)"
    )

    in_thread(lambda: command.downgrade(config, "base"))
    left = set(_inspect(scratch_url, lambda c: inspect(c).get_table_names()))
    assert left == {f"alembic_version_{service}"}


def test_environments_are_independent() -> None:
    # Three histories, three version tables: none of the environments shares a revision.
    from alembic.script import ScriptDirectory

    heads = {}
    for service in SERVICES:
        script = ScriptDirectory.from_config(alembic_config(service, "sqlite://"))
        revisions = {r.revision for r in script.walk_revisions()}
        heads[service] = revisions
        assert len(script.get_heads()) == 1, f"{service} has several heads"
    assert not (heads["inventory"] & heads["cooperation"])
    assert not (heads["inventory"] & heads["gateway"])
    assert not (heads["cooperation"] & heads["gateway"])


def test_environment_reads_url_from_service_settings(tmp_path: Path) -> None:
    # Without an explicit URL the environment takes the service's own setting.
    url = f"sqlite+aiosqlite:///{tmp_path / 'from-env.db'}"
    config = alembic_config("cooperation", "")
    config.attributes.pop("url")
    os.environ["COOPERATION_DATABASE_URL"] = url
    try:
        in_thread(lambda: command.upgrade(config, "head"))
    finally:
        del os.environ["COOPERATION_DATABASE_URL"]
    assert (tmp_path / "from-env.db").exists()


def test_a_generated_revision_is_tidy_and_lint_clean(tmp_path: Path) -> None:
    # What a developer gets from `alembic revision --autogenerate`: the post-write hooks
    # drop autogenerate's banner comments and leave a file that ruff accepts as it is.
    import shutil
    import subprocess
    import sys

    versions = tmp_path / "versions"
    shutil.copytree(Path(__file__).parents[1] / "migrations" / "gateway" / "versions", versions)
    config = alembic_config("gateway", f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}")
    config.set_section_option("gateway", "version_locations", str(versions))
    in_thread(lambda: command.upgrade(config, "head"))
    in_thread(lambda: command.revision(config, message="probe", autogenerate=True))

    (new,) = versions.glob("*_probe.py")
    text = new.read_text()
    assert "# ###" not in text
    assert "def upgrade() -> None:\n    pass\n" in text
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(new)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout


def test_hcb_factors_become_mass_with_no_teq_scheme(scratch_url: str) -> None:
    # Before e5b7c9d1f3a2 every factor was "µg TEQ" under a scheme, HCB too (issue 12):
    # the migration gives TEQ pollutants µg TEQ and makes HCB/PeCBz plain µg, no scheme.
    config = alembic_config("inventory", scratch_url)
    in_thread(lambda: command.upgrade(config, "c4e1a2b3d5f6"))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    common = {
        "source_group": "6",
        "category": "6b",
        "category_name": "Waste burning",
        "class_name": "Open burning",
        "vector": "air",
        "value_kind": "value",
        "activity_unit": "t",
        "teq_scheme": "WHO-2005",
        "toolkit_edition": "2013",
        "provenance": "test",
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    rows = [
        common | {"class_no": 2, "pollutant": "pcdd_pcdf", "value_ug_teq_per_unit": 40},
        common | {"class_no": 9, "pollutant": "hcb", "value_ug_teq_per_unit": 100},
    ]

    def insert(conn: Connection) -> None:
        table = sa.Table("emission_factors", MetaData(), autoload_with=conn)
        conn.execute(table.insert(), rows)
        conn.commit()

    _inspect(scratch_url, insert)
    in_thread(lambda: command.upgrade(config, "head"))

    def read(conn: Connection) -> list[Any]:
        query = "SELECT pollutant, value_unit, teq_scheme FROM emission_factors ORDER BY class_no"
        return [tuple(r) for r in conn.execute(sa.text(query))]

    assert _inspect(scratch_url, read) == [("pcdd_pcdf", "µg TEQ", "WHO-2005"), ("hcb", "µg", "")]
    in_thread(lambda: command.downgrade(config, "c4e1a2b3d5f6"))
    in_thread(lambda: command.downgrade(config, "base"))


def test_mercury_estimates_recorded_before_the_catalogue_become_level_2(scratch_url: str) -> None:
    # Before d8f3a6c2b1e9 there was no mercury factor catalogue: every estimate carried its
    # own factor whatever its toolkit_level said (issue 12 item 12). They become Level 2.
    config = alembic_config("inventory", scratch_url)
    in_thread(lambda: command.upgrade(config, "b7d2e9f04a1c"))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    versioned = {"created_at": now, "updated_at": now, "version": 1}
    submission = {"id": 1, "org_code": "MINEM", "year": 2024, "section": "mercury"}
    submission |= {"status": "draft", "revision": 1, "created_by": "t"} | versioned
    estimate = {"submission_id": 1, "org_code": "MINEM", "category": "asgm", "toolkit_level": 1}
    estimate |= {"activity_rate": 10, "activity_unit": "kg gold", "input_factor_kg_per_unit": 3}
    estimate |= {"input_factor_unit": "kg gold", "factor_provenance": "own"}
    estimate |= {"input_kg_per_year": 30} | versioned

    def insert(conn: Connection) -> None:
        meta = MetaData()
        for name, row in (("submissions", submission), ("mercury_estimates", estimate)):
            conn.execute(sa.Table(name, meta, autoload_with=conn).insert(), [row])
        conn.commit()

    _inspect(scratch_url, insert)
    in_thread(lambda: command.upgrade(config, "head"))

    def read(conn: Connection) -> list[Any]:
        query = "SELECT toolkit_level, factor_id, input_kg_per_year FROM mercury_estimates"
        return [tuple(r) for r in conn.execute(sa.text(query))]

    assert [(level, factor) for level, factor, _ in _inspect(scratch_url, read)] == [(2, None)]
    in_thread(lambda: command.downgrade(config, "b7d2e9f04a1c"))
    in_thread(lambda: command.downgrade(config, "base"))


@pytest.mark.parametrize("plan_stored", [True, False])
def test_the_thresholds_row_becomes_the_national_schedule(
    scratch_url: str, plan_stored: bool
) -> None:
    # Before 3d8a6f2c1b90 one row held the thresholds in force, and a national plan
    # overwrote the Convention's deadlines there (issue 12 item 9). That row becomes the
    # national schedule, as it was; the Convention's schedule is no longer stored.
    config = alembic_config("inventory", scratch_url)
    in_thread(lambda: command.upgrade(config, "b7d2e9f04a1c"))

    def plan(conn: Connection) -> None:
        conn.execute(
            sa.text(
                "UPDATE pcb_thresholds SET use_deadline = '2030-12-31', "
                "esm_deadline = '2030-12-31', provenance = 'Plan 2026-2030', version = 2"
            )
        )
        conn.commit()

    if plan_stored:
        _inspect(scratch_url, plan)
    in_thread(lambda: command.upgrade(config, "3d8a6f2c1b90"))

    def read(conn: Connection) -> list[Any]:
        query = "SELECT schedule, use_deadline, esm_deadline, provenance FROM pcb_thresholds"
        return [tuple(str(v) for v in r) for r in conn.execute(sa.text(query))]

    expected = (
        ("national", "2030-12-31", "2030-12-31", "Plan 2026-2030")
        if plan_stored
        else (
            "national",
            "2025-12-31",
            "2028-12-31",
            "No national plan recorded yet: the Convention's values.",
        )
    )
    assert _inspect(scratch_url, read) == [expected]
    in_thread(lambda: command.downgrade(config, "b7d2e9f04a1c"))
    in_thread(lambda: command.downgrade(config, "base"))
