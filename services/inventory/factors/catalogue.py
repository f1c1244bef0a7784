"""The UP-POPs factor catalogue as shipped: ``data/upops_toolkit_2013.csv`` (see
``data/README.md`` for what it holds, where each figure was read, and what is missing).

``load_catalogue`` adds the factors the database lacks (matched by their key: category,
class, pollutant, vector, TEQ scheme, edition) and never changes one already there, so
running it again adds nothing and reviewers' edits stay. ``python -m
services.inventory.factors.catalogue`` loads it, and the mercury Level 1 catalogue, into
the configured database (the demo seed loads both too).
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.factors.models import EmissionFactor
from services.inventory.factors.schemas import FactorIn
from services.inventory.factors.service import create_factor
from services.inventory.mercury.catalogue import load_mercury_catalogue
from services.inventory.settings import InventorySettings
from shared.db import Database
from shared.security import Principal
from shared.tokens import VerifiedToken

DATA = Path(__file__).parent / "data" / "upops_toolkit_2013.csv"
# Columns of the data file that are not fields of a factor.
_FILE_ONLY = ("checked",)
LOADER = VerifiedToken(
    client_id="toolkit-catalogue", org="MINAM", scopes=frozenset(), jti="catalogue", exp=0
)


def read_catalogue(path: Path = DATA) -> list[FactorIn]:
    """The factors of the data file, validated as the API validates a new factor (a
    ValueError naming the line when one does not fit)."""
    factors = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            fields = {k: v for k, v in row.items() if k not in _FILE_ONLY and v != ""}
            try:
                factors.append(FactorIn.model_validate(fields))
            except ValueError as exc:
                raise ValueError(f"{path.name} line {line}: {exc}") from exc
    return factors


async def load_catalogue(
    session: AsyncSession, principal: Principal = LOADER, path: Path = DATA
) -> int:
    """Add the data file's factors the catalogue lacks; return how many were added."""
    added = 0
    for data in read_catalogue(path):
        exists = await session.scalar(
            select(EmissionFactor.id).where(
                EmissionFactor.category == data.category,
                EmissionFactor.class_no == data.class_no,
                EmissionFactor.pollutant == data.pollutant.value,
                EmissionFactor.vector == data.vector.value,
                EmissionFactor.teq_scheme == (data.teq_scheme.value if data.teq_scheme else ""),
                EmissionFactor.toolkit_edition == data.toolkit_edition,
            )
        )
        if exists is None:
            await create_factor(session, principal, data)
            added += 1
    await session.flush()
    return added


async def main() -> None:
    """Load the catalogue into the configured inventory database."""
    db = Database(InventorySettings().database_url)
    try:
        async with db.sessions() as session:
            added = await load_catalogue(session)
            mercury = await load_mercury_catalogue(session)
            await session.commit()
    finally:
        await db.close()
    print(f"inventory: Toolkit catalogues loaded ({added} UP-POPs, {mercury} mercury factors)")


if __name__ == "__main__":
    asyncio.run(main())
