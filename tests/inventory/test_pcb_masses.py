"""Issue 12 item 2: PCB tonnes never drop silently to zero. Expected values from DOMAIN.md
§1 (mass = volume x density; askarel ~1.5, mineral oil ~0.88 kg/L) and the seeded
densities (silicone 0.96, ester 0.92): an item that cannot be weighed is counted as such,
with the reason, and every estimate says how it was made."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from services.inventory.pcb.fluids import fluid_kind_from_trade_name
from services.inventory.pcb.mass import (
    DEFAULT_FLUID_DENSITIES,
    MassMethod,
    NotWeighed,
    fluid_mass,
    total_mass,
)
from tests.inventory.conftest import Caller, validate

D = Decimal


@pytest.mark.parametrize(
    "name",
    [
        "Pyranol",
        "Inerteen",
        "Clophen A30",
        "Aroclor 1254",
        "Askarel",
        "Pyralène",
        "PYRALENE",
        "Apirolio",
        "Kanechlor 400",
        "Sovol",
        "Delor 103",
        "Fenclor 42",
    ],
)
def test_askarel_trade_names_are_askarel(name: str) -> None:
    assert fluid_kind_from_trade_name(name) == "askarel"


def test_other_trade_names_map_or_stay_unknown() -> None:
    assert fluid_kind_from_trade_name("Nytro Lyra X") == "mineral_oil"
    assert fluid_kind_from_trade_name("Midel 7131") == "ester"
    assert fluid_kind_from_trade_name("Envirotemp FR3") == "ester"
    assert fluid_kind_from_trade_name("Dow Corning 561") == "silicone_oil"
    assert fluid_kind_from_trade_name("Transformol Z") is None


def test_fluid_and_total_mass_are_measured_estimated_or_not_weighed() -> None:
    d = DEFAULT_FLUID_DENSITIES
    assert fluid_mass(D(100), None, "silicone_oil", d).kg == D("96.000")
    assert fluid_mass(D(100), None, "ester", d).kg == D("92.000")
    estimated = fluid_mass(D(100), None, "askarel", d)
    assert (estimated.kg, estimated.method, estimated.density_kg_per_l) == (
        D("150.000"),
        MassMethod.VOLUME_X_DENSITY,
        D("1.5"),
    )
    for kind in ("other", None):
        nothing = fluid_mass(D(100), None, kind, d)
        assert (nothing.kg, nothing.reason) == (None, NotWeighed.NO_DENSITY)
    assert fluid_mass(None, None, "askarel", d).reason == NotWeighed.NO_VOLUME_OR_MASS
    assert fluid_mass(D(100), D(140), "askarel", d).method == MassMethod.MEASURED
    assert total_mass(D(900), None, estimated).kg == D(900)
    summed = total_mass(None, D(500), estimated)
    assert (summed.kg, summed.method) == (D("650.000"), MassMethod.DRY_PLUS_FLUID)
    missing = total_mass(None, None, estimated)
    assert (missing.kg, missing.reason) == (None, NotWeighed.NO_TOTAL_OR_DRY_MASS)


async def test_items_and_national_totals_count_what_they_cannot_weigh(
    minem: Caller, minam: Caller, oefa: Caller
) -> None:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    sub = await minem.submission(2023)
    sid = sub["id"]

    async def item(**fields: Any) -> dict[str, Any]:
        base = {"fluid_volume_l": "100", "total_mass_kg": None, "year_manufactured": 1999}
        return dict(await minem.item(sid, holder["id"], site["id"], **(base | fields)))

    silicone = await item(fluid_kind="silicone_oil", dry_mass_kg="400")
    ester = await item(fluid_trade_name="Midel 7131")
    other = await item(fluid_kind="other", total_mass_kg="700")
    unknown = await item(fluid_trade_name="Transformol Z", total_mass_kg="800")
    drum = await item(fluid_kind="askarel", fluid_mass_kg="300", fluid_volume_l="200")

    assert silicone["fluid_mass"]["kg"] == "96.000"
    assert silicone["fluid_mass"]["method"] == "volume_x_density"
    assert D(silicone["fluid_mass"]["density_kg_per_l"]) == D("0.96")
    assert silicone["total_mass"]["kg"] == "496.000"
    assert silicone["total_mass"]["method"] == "dry_plus_fluid"
    assert ester["fluid_kind"] == "ester"
    assert ester["fluid_mass"]["kg"] == "92.000"
    assert ester["total_mass"] == {
        "kg": None,
        "method": "not_weighed",
        "density_kg_per_l": None,
        "not_weighed_reason": "no_total_or_dry_mass",
    }
    assert other["fluid_mass"]["kg"] is None
    assert other["fluid_mass"]["not_weighed_reason"] == "no_density_for_fluid_kind"
    assert unknown["fluid_kind"] is None
    assert "trade_name_review" in unknown["compliance_flags"]
    assert "trade_name_review" not in ester["compliance_flags"]
    assert drum["fluid_mass"]["method"] == "measured"
    listed = await minem.get("/pcb-items", params={"flag": "trade_name_review"})
    assert [i["id"] for i in listed.json()["items"]] == [unknown["id"]]

    def check(pcb: dict[str, Any]) -> None:
        assert pcb["items"] == 5
        # Total: 496 (dry + fluid) + 700 + 800 recorded; ester and drum not weighed.
        assert D(pcb["total_mass_t"]) == D("1.996")
        assert D(pcb["estimated_total_mass_t"]) == D("0.496")
        assert pcb["items_not_weighed"] == 2
        # Fluid: 96 + 92 estimated, 300 recorded; "other" and the unknown name not weighed.
        assert D(pcb["fluid_mass_t"]) == D("0.488")
        assert D(pcb["estimated_fluid_mass_t"]) == D("0.188")
        assert pcb["fluid_items_not_weighed"] == 2
        assert pcb["weighing"]["total_mass_not_weighed"] == {"no_total_or_dry_mass": 2}
        assert pcb["weighing"]["fluid_mass_not_weighed"] == {"no_density_for_fluid_kind": 2}
        estimates = {e["fluid_kind"]: e for e in pcb["weighing"]["fluid_mass_estimates"]}
        assert D(estimates["silicone_oil"]["density_kg_per_l"]) == D("0.96")
        assert D(estimates["ester"]["fluid_mass_t"]) == D("0.092")

    preview = await minem.get("/reports/national-summary", params={"submission_id": sid})
    check(preview.json()["pcb"])  # from the items
    await validate(minem, minam, sid)
    national = await oefa.get("/reports/national-summary", params={"year": 2023})
    check(national.json()["pcb"])  # from the summary cells
