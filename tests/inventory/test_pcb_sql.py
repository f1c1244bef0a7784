"""The SQL form of the PCB rules (filters and national figures) agrees with the Python
rules on every boundary: exactly 50, 500 and 100 000 mg/kg, exactly 5 L and 0.05 L,
missing values, screening bounds, and the deadlines."""

from __future__ import annotations

import itertools
import random
from datetime import date
from decimal import Decimal

from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Numeric, String, create_engine, literal, select
from sqlalchemy.types import Integer

from services.inventory.pcb.classes import (
    class_sql,
    flag_sql,
    item_class,
    item_class_sql,
    item_flags,
    status_on_sql,
)
from services.inventory.pcb.mass import DEFAULT_FLUID_DENSITIES
from services.inventory.pcb.models import PcbItem, PcbStatusEvent
from services.inventory.pcb.rules import (
    AnalysisMethod,
    ComplianceFlag,
    Concentration,
    ConcentrationKind,
    OperatingStatus,
    Thresholds,
    classify,
)
from services.inventory.pcb.status import StatusChange, status_on
from tests.inventory.conftest import scratch_draft

T = Thresholds()
D = Decimal
DENSITIES = dict(DEFAULT_FLUID_DENSITIES)
# Masses that put a derived volume (mass / density) on either side of 5 L and 0.05 L for
# askarel (1.5 kg/L) and mineral oil (0.88 kg/L).
MASSES = [None, "7.5", "7.501", "4.4", "4.401", "0.075", "0.076", "0.044", "0.045"]
FLUID_KINDS = [None, "askarel", "mineral_oil", "other"]
VALUES = [
    None,
    "0",
    "2",
    "49.999",
    "50",
    "50.001",
    "499.999",
    "500",
    "500.001",
    "99999.999",
    "100000",
    "100000.001",
    "999999",
]
VOLUMES = [None, "0", "0.05", "0.051", "4.999", "5", "5.001", "850"]
YEARS = [None, 1986, 1987]
KINDS = [k.value for k in ConcentrationKind]


async def test_sql_class_and_flags_agree_with_the_rules(inventory_app: FastAPI) -> None:
    rng = random.Random(20250203)
    async with inventory_app.state.db.sessions() as session:
        new_item = await scratch_draft(session)
        n = 0
        for kind, value, volume, year in itertools.product(KINDS, VALUES, VOLUMES, YEARS):
            if (kind == "unknown") != (value is None):
                continue
            mass = rng.choice(MASSES)
            fluid_kind = rng.choice(FLUID_KINDS)
            n += 1
            source = {"measured": rng.choice(["gc", "nameplate"]), "unknown": None}.get(
                kind, "screening"
            )
            session.add(
                new_item(
                    serial_number=f"S{n}",
                    year_manufactured=year,
                    fluid_volume_l=None if volume is None else D(volume),
                    fluid_mass_kg=None if mass is None else D(mass),
                    fluid_kind=fluid_kind,
                    fluid_trade_name=rng.choice([None, "", "Pyranol", "Transformol"]),
                    conc_kind=kind,
                    conc_value_mg_per_kg=None if value is None else D(value),
                    conc_source=source,
                    status=rng.choice(list(OperatingStatus)).value,
                    # A decontamination is verified by a clean GC dated strictly after it.
                    status_since=rng.choice([None, date(2024, 1, 1), date(2024, 6, 1)]),
                    conc_analysed_on=None
                    if value is None
                    else rng.choice([None, date(2024, 3, 1), date(2024, 6, 1)]),
                    labelled=rng.random() < 0.5,
                    in_food_feed_area=rng.random() < 0.3,
                )
            )
        await session.flush()
        cls = item_class_sql(T, DENSITIES)
        rows = (await session.execute(select(PcbItem, cls))).all()
        assert len(rows) == n > 800
        for item, sql_class in rows:
            assert sql_class == item_class(item, T, DENSITIES).value, (
                item.conc_kind,
                item.conc_value_mg_per_kg,
                item.fluid_volume_l,
                item.year_manufactured,
            )
        for as_of in (date(2025, 12, 31), date(2026, 1, 1), date(2028, 12, 31), date(2029, 1, 1)):
            for flag in ComplianceFlag:
                flagged = set(
                    await session.scalars(
                        select(PcbItem.id).where(flag_sql(flag, T, DENSITIES, as_of, cls))
                    )
                )
                expected = {
                    item.id for item, _ in rows if flag in item_flags(item, T, DENSITIES, as_of)
                }
                assert flagged == expected, (flag, as_of)
        await session.rollback()


_engine = create_engine("sqlite://")
_value = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=1_000_000, places=3, allow_nan=False),
    st.sampled_from([D(v) for v in VALUES if v is not None]),
)
_volume = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=100_000, places=3, allow_nan=False),
    st.sampled_from([D(v) for v in VOLUMES if v is not None]),
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(ConcentrationKind)),
    value=_value,
    volume=_volume,
    year=st.one_of(st.none(), st.integers(1950, 2020)),
)
def test_sql_case_matches_classify_for_any_item(
    kind: ConcentrationKind, value: Decimal | None, volume: Decimal | None, year: int | None
) -> None:
    source = (
        AnalysisMethod.SCREENING
        if kind in (ConcentrationKind.ABOVE, ConcentrationKind.BELOW)
        else AnalysisMethod.GC
    )
    expected = classify(Concentration(kind, value, source), volume, year, T)
    expr = class_sql(
        T,
        kind=literal(kind.value, String()),
        value=literal(value, Numeric(14, 3)),
        volume=literal(volume, Numeric(12, 3)),
        year=literal(year, Integer()),
    )
    with _engine.connect() as conn:
        assert conn.scalar(select(expr)) == expected.value


async def test_sql_status_on_a_date_agrees_with_the_history_rule(inventory_app: FastAPI) -> None:
    # Issue 12 item 6: the status in force on a date, in SQL (filters) and Python (items).
    histories: list[list[tuple[str, date | None]]] = [
        [("in_use", None)],
        [("in_use", None), ("out_of_service_stored", date(2026, 3, 1))],
        [("in_use", date(2020, 1, 1)), ("standby", date(2024, 1, 1)), ("in_use", date(2025, 1, 1))],
        [("out_of_service_stored", date(2026, 3, 1)), ("decontaminated", date(2026, 3, 1))],
    ]
    async with inventory_app.state.db.sessions() as session:
        new_item = await scratch_draft(session)
        expected_history: dict[int, list[StatusChange]] = {}
        for n, history in enumerate(histories):
            item = new_item(
                serial_number=f"H{n}",
                status=history[-1][0],
                status_since=history[-1][1],
                conc_kind="unknown",
            )
            session.add(item)
            await session.flush()
            for to, on in history:
                session.add(
                    PcbStatusEvent(
                        item_id=item.id, to_status=to, changed_on=on, client_id="t", org_code="X"
                    )
                )
            expected_history[item.id] = [StatusChange(to, on) for to, on in history]
        await session.flush()
        for day in (date(2019, 1, 1), date(2024, 6, 1), date(2026, 2, 28), date(2026, 3, 1)):
            state = status_on_sql(day)
            rows = (await session.execute(select(PcbItem.id, *state))).all()
            for item_id, status, since in rows:
                python = status_on(expected_history[item_id], day)
                assert python is not None
                assert (status, since) == (python.status.value, python.since), (item_id, day)
        await session.rollback()
