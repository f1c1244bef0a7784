"""Fixtures the gateway's test modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.settings import GatewaySettings
from shared.db import Database
from tests.gateway.support import Recorder, asgi_transport, running_gateway


@pytest.fixture
async def recorded(
    gateway_settings: GatewaySettings, inventory_app: FastAPI, cooperation_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]]]:
    """The gateway in front of the real services, recording what each service received."""
    recorders = {
        "inventory": Recorder(asgi_transport(inventory_app)),
        "cooperation": Recorder(asgi_transport(cooperation_app)),
    }
    async with running_gateway(gateway_settings, recorders) as (app, client):
        yield app, client, recorders


@pytest.fixture
async def db(clean_databases: dict[str, str]) -> AsyncIterator[Database]:
    """The gateway's test database, opened on its own engine."""
    database = Database(clean_databases["gateway"])
    yield database
    await database.close()
