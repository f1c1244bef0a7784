"""``python -m services.inventory.seed``: load the demo holders, sites and PCB items.

Idempotent: records are matched by natural key (RUC; holder + site name; holder +
manufacturer + serial number) and only missing ones are added.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder, Site
from services.inventory.settings import InventorySettings
from shared.db import Database

DEMO = Path(__file__).parent / "data" / "demo.json"
_DECIMALS = (
    "power_kva",
    "voltage_kv",
    "fluid_volume_l",
    "fluid_mass_kg",
    "dry_mass_kg",
    "total_mass_kg",
)


async def load_demo(session: AsyncSession, data: dict[str, Any]) -> int:
    """Add the demo records that are missing; return how many were added."""
    added = 0
    holders: dict[str, Holder] = {}
    for h in data["holders"]:
        holder = await session.scalar(select(Holder).where(Holder.ruc == h["ruc"]))
        if holder is None:
            holder = Holder(**h)
            session.add(holder)
            added += 1
        holders[h["ruc"]] = holder
    await session.flush()
    sites: dict[tuple[str, str], Site] = {}
    for s in data["sites"]:
        holder = holders[s["holder_ruc"]]
        fields = {k: v for k, v in s.items() if k != "holder_ruc"}
        site = await session.scalar(
            select(Site).where(Site.holder_id == holder.id, Site.name == s["name"])
        )
        if site is None:
            site = Site(
                holder_id=holder.id,
                **{
                    **fields,
                    "latitude": Decimal(s["latitude"]),
                    "longitude": Decimal(s["longitude"]),
                },
            )
            session.add(site)
            added += 1
        sites[(s["holder_ruc"], s["name"])] = site
    await session.flush()
    for item in data["pcb_items"]:
        holder = holders[item["holder_ruc"]]
        exists = await session.scalar(
            select(PcbItem.id).where(
                PcbItem.holder_id == holder.id,
                PcbItem.manufacturer == item["manufacturer"],
                PcbItem.serial_number == item["serial_number"],
            )
        )
        if exists is not None:
            continue
        fields = {k: v for k, v in item.items() if k not in ("holder_ruc", "site")}
        for key in _DECIMALS:
            if key in fields:
                fields[key] = Decimal(fields[key])
        session.add(
            PcbItem(
                holder_id=holder.id,
                site_id=sites[(item["holder_ruc"], item["site"])].id,
                org_code=holder.org_code,
                **fields,
            )
        )
        added += 1
    return added


async def main() -> None:
    """Seed the configured inventory database."""
    db = Database(InventorySettings().database_url)
    try:
        async with db.sessions() as session:
            added = await load_demo(session, json.loads(DEMO.read_text(encoding="utf-8")))
            await session.commit()
    finally:
        await db.close()
    print(f"inventory: demo data loaded ({added} records added)")


if __name__ == "__main__":
    asyncio.run(main())
