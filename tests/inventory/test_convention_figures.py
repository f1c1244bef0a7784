"""The figures of the Convention reports from grouped rows, alone (no database)."""

from __future__ import annotations

from decimal import Decimal

from services.inventory.reports.arithmetic import PcbGroup
from services.inventory.reports.convention_figures import pcb_figures


def _group(pcb_class: str, status: str, items: int, kg: str, **kw: object) -> PcbGroup:
    fields: dict[str, object] = {
        "keys": (),
        "pcb_class": pcb_class,
        "status": status,
        "fluid_basis": "measured",
        "total_basis": "measured",
        "contaminated": pcb_class in ("P1", "P2", "P3"),
        "labelled": None,
        "in_food_feed_area": None,
        "screening_only": None,
        "items": items,
        "total_mass_kg": Decimal(kg),
        "fluid_mass_kg": Decimal(0),
    } | kw
    return PcbGroup(**fields)  # type: ignore[arg-type]


def test_pcb_figures_by_category_state_and_source() -> None:
    figures = pcb_figures(
        {
            7: [_group("P1", "in_use", 2, "3000"), _group("non_pcb", "in_use", 5, "900")],
            9: [
                _group("P1", "eliminated", 1, "1000"),
                _group("P2", "in_use", 1, "0", total_basis="not_weighed"),
                _group("non_pcb", "in_use", 1, "10", contaminated=True),
            ],
        }
    ).figures
    found = {(f.figure, f.dimensions.get("category")): f for f in figures}
    identified = found[("pcb.identified.equipment_items", "i")]
    assert (identified.value, identified.source_submissions) == (3, [7, 9])
    assert found[("pcb.esm.equipment_mass", "i")].value == Decimal("1.000")
    assert found[("pcb.esm.equipment_items", "i")].source_submissions == [9]
    p2_mass = found[("pcb.in_use.equipment_mass", "ii")]
    assert (p2_mass.value, p2_mass.not_weighed_items) == (Decimal("0.000"), 1)
    # Contaminated below the volume rule counts; a clean non-PCB item never does.
    assert found[("pcb.identified.equipment_items", "below_volume_rule")].value == 1
    assert found[("pcb.identified.equipment_items", "all_pcb")].value == 4
    # Nothing in (iii): a zero computed from both submissions.
    none = found[("pcb.identified.equipment_items", "iii")]
    assert (none.value, none.source_submissions) == (0, [7, 9])
