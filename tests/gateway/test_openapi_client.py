"""Issue 14 item 2: the OpenAPI document is the contract. A client generated from it with
``openapi-python-client`` (as an integrator would) calls a write route and reads the
problem the server sends as the typed ``Problem`` the document declares."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Tokens

PACKAGE = "enlace_generated_client"


def _generate(doc: dict[str, Any], folder: Path) -> None:
    spec = folder / "openapi.json"
    spec.write_text(json.dumps(doc))
    config = folder / "config.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(folder / PACKAGE),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        del sys.modules[name]


async def test_a_generated_client_writes_and_reads_problems(
    gateway: httpx.AsyncClient, tokens: Tokens, generated: Path
) -> None:
    doc = (await gateway.get("/openapi.json")).json()
    _generate(doc, generated)
    client_module = importlib.import_module(PACKAGE)
    models = importlib.import_module(f"{PACKAGE}.models")
    api = importlib.import_module(f"{PACKAGE}.api.inventory_inventory_cycles")

    token = await tokens.get("minem-generated", "MINEM", "inventory:read inventory:write")
    client = client_module.AuthenticatedClient(base_url=str(gateway.base_url), token=token)
    client.set_async_httpx_client(gateway)
    gateway.headers["Authorization"] = f"Bearer {token}"

    create = importlib.import_module(
        f"{api.__name__}.{_module_named(api, 'inventory_create_submission')}"
    )
    body_model = models.SubmissionIn
    created = await create.asyncio_detailed(
        client=client, body=body_model.from_dict({"year": 2024, "section": "pcb"})
    )
    assert created.status_code == 201, created.content
    assert created.parsed.year == 2024

    again = await create.asyncio_detailed(
        client=client, body=body_model.from_dict({"year": 2024, "section": "pcb"})
    )
    refused = await create.asyncio_detailed(
        client=client, body=body_model.from_dict({"year": 1800, "section": "pcb"})
    )
    for answer, status in ((again, 409), (refused, 422)):
        assert answer.status_code == status, answer.content
        problem = answer.parsed
        assert type(problem).__name__ == "Problem"
        assert problem.status == status
        assert problem.type_.startswith("https://")
    fields = [e.to_dict()["loc"] for e in refused.parsed.errors]
    assert ["body", "year"] in fields


def _module_named(package: Any, prefix: str) -> str:
    """The generated module of the operation whose name starts with ``prefix``."""
    folder = Path(package.__file__).parent
    names = sorted(p.stem for p in folder.glob(f"{prefix}*.py"))
    assert names, f"no generated operation {prefix}* in {folder}"
    return names[0]
