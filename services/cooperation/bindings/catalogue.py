"""The inventory metrics an indicator can be bound to: a copy of the ids, units and scope
filters of the inventory's catalogue (``GET /inventory/v1/metrics``), so that a binding is
checked when it is written, whether or not the inventory answers at that moment. Kept in
step with the inventory by ``tests/cooperation/test_indicator_bindings.py``."""

from __future__ import annotations

from dataclasses import dataclass

DEPARTMENT, SECTOR = "department", "sector"
BOTH = (DEPARTMENT, SECTOR)
SCHEDULES = ("convention", "national")
# The holders' sectors, as the inventory records them.
SECTORS = (
    "electricity_generation",
    "electricity_transmission",
    "electricity_distribution",
    "mining",
    "oil_gas",
    "manufacturing",
    "water_sanitation",
    "health",
    "transport",
    "commerce_services",
    "public_administration",
    "other",
)


@dataclass(frozen=True)
class MetricRef:
    """What the cooperation service knows of an inventory metric."""

    id: str
    unit: str
    filters: tuple[str, ...]


METRICS: dict[str, MetricRef] = {
    m.id: m
    for m in (
        MetricRef("pcb_in_use", "t", BOTH),
        MetricRef("pcb_eliminated_cumulative", "t", BOTH),
        MetricRef("holders_validated_share", "%", BOTH),
        MetricRef("pcb_unanalysed", "items", BOTH),
        MetricRef("pcdd_pcdf_releases", "g TEQ/a", BOTH),
        MetricRef("asgm_mercury_releases", "kg/a", (DEPARTMENT,)),
    )
}
