"""``python -m bench.services_data inventory|cooperation --copies N``: the demo data, with
every demo PCB item (inventory) or activity (cooperation) repeated ``N`` times, so that
``bench services`` reads full pages of 50.

Loaded by the seeds' own functions (``load_demo``, ``load_demo_activities``) into an empty,
migrated database named by ``INVENTORY_DATABASE_URL`` / ``COOPERATION_DATABASE_URL``: the
PCB submission is validated after all its items were added (so the national summary cells
count them), and every activity is published, as the demo's are.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
from collections.abc import Sequence
from typing import Any

from shared.db import Database


def repeated(items: list[dict[str, Any]], copies: int, key: str) -> list[dict[str, Any]]:
    """``items`` and ``copies - 1`` copies of each, ``key`` suffixed ``-B<n>`` (unique)."""
    out = list(items)
    for n in range(1, copies):
        for item in items:
            twin = copy.deepcopy(item)
            twin[key] = f"{item[key]}-B{n}"
            out.append(twin)
    return out


async def inventory(copies: int) -> int:
    """The demo inventory with ``copies`` times its PCB items: items added."""
    from services.inventory.seed import DEMO, load_demo
    from services.inventory.settings import InventorySettings

    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["pcb_items"] = repeated(data["pcb_items"], copies, "serial_number")
    db = Database(InventorySettings().database_url)
    try:
        async with db.sessions() as session:
            added = await load_demo(session, data)
            await session.commit()
    finally:
        await db.close()
    return added


async def cooperation(copies: int) -> int:
    """The demo program with ``copies`` times its activities: activities added."""
    from services.cooperation.seed import (
        _read,
        load_demo_activities,
        load_organisations,
        load_program,
    )
    from services.cooperation.settings import CooperationSettings

    db = Database(CooperationSettings().database_url)
    try:
        async with db.sessions() as session:
            await load_organisations(session, _read("organisations.json"))
            await load_program(session, _read("work_program_2015_2018.json"))
            await session.commit()
            data = _read("demo_activities.json")
            data["activities"] = repeated(data["activities"], copies, "own_id")
            added = await load_demo_activities(session, data)
            await session.commit()
    finally:
        await db.close()
    return added


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: which service, how many copies."""
    parser = argparse.ArgumentParser(prog="python -m bench.services_data", description=__doc__)
    parser.add_argument("service", choices=("inventory", "cooperation"))
    parser.add_argument("--copies", type=int, default=8, help="times each demo record (8)")
    args = parser.parse_args(argv)
    load = inventory if args.service == "inventory" else cooperation
    added = asyncio.run(load(args.copies))
    print(f"{args.service}: {added} records added")


if __name__ == "__main__":
    main()
