"""Issue 9 item 9: /oauth/token cannot be turned into unbounded argon2 work. At most
GATEWAY_MAX_CONCURRENT_HASHES secrets are hashed at once (503 with Retry-After beyond the
wait), and attempts are counted per client id as well as per address, so rotating addresses
or forwarding headers does not reset the limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from services.gateway.clients import SecretHasher
from services.gateway.settings import GatewaySettings
from tests.conftest import TEST_SECRET, Tokens
from tests.gateway.support import assert_problem, client_from, running_gateway

FORM = {"grant_type": "client_credentials"}


async def test_a_token_request_finding_every_hashing_slot_busy_is_503_with_retry_after(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(
        update={"max_concurrent_hashes": 1, "hash_wait_s": 0.05, "retry_after_s": 3}
    )
    async with running_gateway(settings) as (app, gateway):
        await Tokens(app, gateway).register("reader-test", "MINAM", "inventory:read")
        hasher: SecretHasher = app.state.hasher
        async with hasher.slot():  # the one slot, taken as a long hash would take it
            busy = await gateway.post("/oauth/token", data=FORM, auth=("reader-test", TEST_SECRET))
        after = await gateway.post("/oauth/token", data=FORM, auth=("reader-test", TEST_SECRET))
    assert_problem(busy, 503, "server-busy")
    assert busy.headers["retry-after"] == "3"
    assert busy.headers["cache-control"] == "no-store"
    assert TEST_SECRET not in busy.text
    assert after.status_code == 200, after.text


async def test_admin_rotating_a_secret_while_hashing_is_busy_is_503_not_500(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(update={"max_concurrent_hashes": 1, "hash_wait_s": 0})
    async with running_gateway(settings) as (app, gateway):
        tokens = Tokens(app, gateway)
        admin = await tokens.headers("admin-test", "MINAM", "admin")
        await tokens.register("partner-test", "GIZ", "cooperation:read")
        async with app.state.hasher.slot():
            busy = await gateway.post("/admin/clients/partner-test/rotate-secret", headers=admin)
    assert_problem(busy, 503, "server-busy")
    assert "retry-after" in busy.headers


async def test_concurrent_token_requests_never_hash_more_than_the_cap_at_once(
    gateway_settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = gateway_settings.model_copy(update={"max_concurrent_hashes": 2, "hash_wait_s": 30})
    async with running_gateway(settings) as (app, gateway):
        await Tokens(app, gateway).register("reader-test", "MINAM", "inventory:read")
        hasher: SecretHasher = app.state.hasher
        running, most, lock = 0, 0, threading.Lock()
        verify: Callable[..., bool] = hasher._verify  # the argon2 call, in a worker thread

        def counted(*args: Any) -> bool:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            try:
                threading.Event().wait(0.05)  # a slow hash: the others pile up meanwhile
                return verify(*args)
            finally:
                with lock:
                    running -= 1

        monkeypatch.setattr(hasher, "_verify", counted)
        answers = await asyncio.gather(
            *(
                gateway.post("/oauth/token", data=FORM, auth=("reader-test", TEST_SECRET))
                for _ in range(8)
            )
        )
    assert [a.status_code for a in answers] == [200] * 8  # they waited for a slot
    assert most == 2


async def test_wrong_secrets_from_rotating_addresses_hit_the_per_client_limit(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(
        update={"token_rate_limit_per_minute": 100, "token_rate_limit_per_client_per_minute": 3}
    )
    async with running_gateway(settings) as (app, gateway):
        tokens = Tokens(app, gateway)
        await tokens.register("victim-test", "MINAM", "inventory:read")
        statuses = []
        for i in range(5):
            async with client_from(app, f"198.51.100.{i}") as attacker:
                response = await attacker.post(
                    "/oauth/token",
                    data=FORM,
                    auth=("victim-test", "guess"),
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
            statuses.append(response.status_code)
        refused = response
        # The right secret is refused too while the window lasts: it counts attempts.
        right = await gateway.post("/oauth/token", data=FORM, auth=("victim-test", TEST_SECRET))
        other = await tokens.get("bystander-test", "MINAM", "inventory:read")
    assert statuses == [401, 401, 401, 429, 429]
    assert refused.json()["error"] == "slow_down"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-limit"] == "3"
    assert right.status_code == 429
    assert other  # another client is not affected


async def test_successful_token_requests_count_toward_the_per_client_limit(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(update={"token_rate_limit_per_client_per_minute": 2})
    async with running_gateway(settings) as (app, gateway):
        await Tokens(app, gateway).register("reader-test", "MINAM", "inventory:read")
        statuses = [
            (
                await gateway.post(
                    "/oauth/token",
                    data={**FORM, "client_id": "reader-test", "client_secret": TEST_SECRET},
                )
            ).status_code
            for _ in range(3)
        ]
    assert statuses == [200, 200, 429]


async def test_made_up_client_ids_share_one_counter_and_leave_real_clients_alone(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(
        update={"token_rate_limit_per_minute": 100, "token_rate_limit_per_client_per_minute": 3}
    )
    async with running_gateway(settings) as (app, gateway):
        tokens = Tokens(app, gateway)
        await tokens.register("reader-test", "MINAM", "inventory:read")
        statuses = [
            (
                await gateway.post("/oauth/token", data=FORM, auth=(f"made-up-{i}", "guess"))
            ).status_code
            for i in range(5)
        ]
        real = await gateway.post("/oauth/token", data=FORM, auth=("reader-test", TEST_SECRET))
    # A fresh id is no fresh budget (nor a fresh counter in memory or in Redis).
    assert statuses == [401, 401, 401, 429, 429]
    assert real.status_code == 200
