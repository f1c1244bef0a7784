"""Inventory API fixtures: callers of each role, through the real gateway with real tokens,
and a small client that builds holders, sites, submissions and items."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder, Site
from services.inventory.registry.rules import ruc_check_digit
from services.inventory.submissions.models import Submission
from tests.conftest import Tokens

# Re-exported for the test modules that import them from here.
from tests.support import PROBLEM as PROBLEM
from tests.support import assert_problem as assert_problem

BASE = "/inventory/v1"

# client id, organisation, scopes
MINEM = ("minem-test", "MINEM", "inventory:read inventory:write")
PRODUCE = ("produce-test", "PRODUCE", "inventory:read inventory:write")
MINAM = ("minam-test", "MINAM", "inventory:read inventory:review")
OEFA = ("oefa-test", "OEFA", "inventory:read")

_serials = itertools.count(1)


def ruc(n: int, prefix: str = "20") -> str:
    """A valid RUC (right check digit) built from ``n``."""
    first_ten = f"{prefix}{n:08d}"
    return first_ten + str(ruc_check_digit(first_ten))


@dataclass
class Caller:
    """One client talking to the inventory through the gateway."""

    gateway: httpx.AsyncClient
    headers: dict[str, str]
    org: str
    etags: dict[str, str] = field(default_factory=dict)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        headers = self.headers | kwargs.pop("headers", {})
        response = await self.gateway.get(BASE + path, headers=headers, **kwargs)
        if response.status_code == 200 and "etag" in response.headers:
            self.etags[path] = response.headers["etag"]
        return response

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        headers = self.headers | kwargs.pop("headers", {})
        return await self.gateway.post(BASE + path, json=json, headers=headers, **kwargs)

    async def write(
        self, method: str, path: str, json: Any = None, *, etag_of: str | None = None
    ) -> httpx.Response:
        """A write with If-Match from a fresh GET of ``etag_of`` (default ``path``)."""
        current = await self.get(etag_of or path)
        # A record the caller cannot read: try anyway, as a client guessing ids would.
        tag = current.headers["etag"] if current.status_code == 200 else "*"
        headers = self.headers | {"If-Match": tag}
        return await self.gateway.request(method, BASE + path, json=json, headers=headers)

    async def ok(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
        """A write that must succeed; its JSON body."""
        response = await self.write(method, path, json, **kwargs)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else None

    # -- builders --------------------------------------------------------------------------

    async def holder(self, n: int | None = None, **fields: Any) -> dict[str, Any]:
        body = {
            "ruc": ruc(n if n is not None else next(_serials) + 1000),
            "name": "Holder " + str(n),
            "sector": "electricity_distribution",
            "is_public": False,
        } | fields
        response = await self.post("/holders", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def site(self, holder_id: int, **fields: Any) -> dict[str, Any]:
        body = {
            "holder_id": holder_id,
            "name": f"Site {next(_serials)}",
            "address": "Av. Demo 1",
            "ubigeo": "150112",
            "latitude": "-12.05",
            "longitude": "-77.04",
            "site_type": "urban",
        } | fields
        response = await self.post("/sites", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def submission(self, year: int = 2024, section: str = "pcb") -> dict[str, Any]:
        response = await self.post("/submissions", {"year": year, "section": section})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def item(self, submission_id: int, holder_id: int, site_id: int, **fields: Any) -> Any:
        body = {
            "holder_id": holder_id,
            "site_id": site_id,
            "equipment_type": "transformer",
            "manufacturer": "ACME",
            "serial_number": f"SN-{next(_serials)}",
            "year_manufactured": 1980,
            "fluid_volume_l": "300",
            "total_mass_kg": "1200",
        } | fields
        response = await self.post(f"/submissions/{submission_id}/pcb-items", body)
        assert response.status_code == 201, response.text
        return response.json()

    async def analysis(self, item_id: int, **fields: Any) -> Any:
        return await self.ok(
            "POST", f"/pcb-items/{item_id}/analyses", fields, etag_of=f"/pcb-items/{item_id}"
        )

    async def lot(
        self, submission_id: int, holder_id: int, site_id: int | None, **fields: Any
    ) -> Any:
        """A stored PCB waste lot (100 kg of contaminated material at the site, or at the
        address given with ``site_id`` None)."""
        body = {
            "holder_id": holder_id,
            "lot_ref": f"LOT-{next(_serials)}",
            "kind": "contaminated_material",
            "description": "Rags and absorbents",
            "mass_kg": "100",
            "site_id": site_id,
            "stored_since": "2024-03-01",
        } | fields
        response = await self.post(f"/submissions/{submission_id}/pcb-wastes", body)
        assert response.status_code == 201, response.text
        return response.json()

    async def shipment(self, submission_id: int, holder_id: int, **fields: Any) -> Any:
        """A shipment for disposal (give its ``lines`` and ``mass_kg``)."""
        body = {
            "holder_id": holder_id,
            "notification_number": f"PE-2024-{next(_serials):04d}",
            "movement_document_numbers": ["MD-1"],
            "exporter": "Exporter S.A.C.",
            "carrier": "Carrier S.A.C.",
            "facility_name": "ESM plant",
            "facility_country": "FR",
            "disposal_operation": "D10",
            "shipped_on": "2024-06-01",
        } | fields
        response = await self.post(f"/submissions/{submission_id}/pcb-shipments", body)
        assert response.status_code == 201, response.text
        return response.json()

    async def move(self, submission_id: int, action: str, comment: str | None = None) -> Any:
        return await self.write(
            "POST",
            f"/submissions/{submission_id}/{action}",
            {"comment": comment} if comment is not None else {},
            etag_of=f"/submissions/{submission_id}",
        )


def _caller(who: tuple[str, str, str], doc: str) -> Any:
    """A fixture: the caller ``who`` (client id, organisation, scopes) with a real token."""

    async def fixture(gateway: httpx.AsyncClient, tokens: Tokens) -> Caller:
        return Caller(gateway, await tokens.headers(*who), who[1])

    fixture.__doc__ = doc
    return pytest.fixture(fixture, name=who[0].removesuffix("-test"))


minem = _caller(MINEM, "MINEM's system: prepares and submits the electricity sector's inventory.")
produce = _caller(PRODUCE, "Another organisation that writes its own inventory.")
minam = _caller(MINAM, "MINAM, the national focal point: reviews and validates.")
oefa = _caller(OEFA, "A reader without ownership: sees validated data only.")


@pytest.fixture
async def anonymous(gateway: httpx.AsyncClient) -> Caller:
    """No token at all."""
    return Caller(gateway, {}, "")


async def validate(owner: Caller, reviewer: Caller, submission_id: int) -> None:
    """Take a submission through submit, review and validation."""
    for caller, action in ((owner, "submit"), (reviewer, "start-review"), (reviewer, "validate")):
        response = await caller.move(submission_id, action)
        assert response.status_code == 200, response.text


async def scratch_draft(session: AsyncSession) -> Callable[..., PcbItem]:
    """A holder, site and draft PCB submission written straight to the database (for the
    SQL tests); returns a maker of unsaved items in it: the given fields on fixed ones."""
    holder = Holder(ruc="20100326796", name="H", sector="other", is_public=False, org_code="X")
    session.add(holder)
    await session.flush()
    site = Site(holder_id=holder.id, name="S", address="A", ubigeo="150101", site_type="urban")
    submission = Submission(org_code="X", year=2024, section="pcb", status="draft", created_by="t")
    session.add_all([site, submission])
    await session.flush()

    def item(**fields: Any) -> PcbItem:
        base = {
            "submission_id": submission.id,
            "holder_id": holder.id,
            "site_id": site.id,
            "org_code": "X",
            "department_code": "15",
            "equipment_type": "transformer",
            "manufacturer": "M",
        }
        return PcbItem(**base | fields)

    return item
