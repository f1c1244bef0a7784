"""W3C trace context across the gateway and a service, and the log lines that carry it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.cooperation.settings import CooperationSettings
from services.gateway.settings import GatewaySettings
from services.inventory.settings import InventorySettings
from shared.logging import Console, JsonLines, _ContextFilter, formatter_for
from shared.tracing import Span, parse_traceparent, span_var
from tests.conftest import Tokens
from tests.gateway.support import Recorder, asgi_transport, bearer, running_gateway, service_apps

HOLDERS = "/inventory/v1/holders"
CALLER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (CALLER, True),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", True),
        # A future version may add fields; version 00 may not.
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", True),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", False),
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", False),
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", False),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", False),
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", False),
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", False),
        ("garbage", False),
        ("", False),
    ],
)
def test_traceparent_is_parsed_as_the_w3c_recommendation_says(value: str, valid: bool) -> None:
    assert (parse_traceparent(value) is not None) is valid


async def test_the_service_joins_the_callers_trace_as_a_child_of_the_gateway(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
) -> None:
    app, gateway, recorders = recorded
    token = await Tokens(app, gateway).get("trace-test", "MINEM", "inventory:read")
    response = await gateway.get(HOLDERS, headers=bearer(token) | {"traceparent": CALLER})
    assert response.status_code == 200
    (seen,) = recorders["inventory"].seen
    forwarded = parse_traceparent(seen.headers["traceparent"])
    assert forwarded is not None
    trace_id, parent_id, flags = forwarded
    # The same trace; the parent is the gateway's own span, not the caller's.
    assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert parent_id != "00f067aa0ba902b7"
    assert flags == "01"


@pytest.mark.parametrize("sent", [None, "00-not-a-trace-01"])
async def test_without_a_valid_traceparent_the_gateway_starts_a_trace(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
    sent: str | None,
) -> None:
    app, gateway, recorders = recorded
    token = await Tokens(app, gateway).get("trace-test", "MINEM", "inventory:read")
    headers = bearer(token) | ({"traceparent": sent} if sent else {})
    assert (await gateway.get(HOLDERS, headers=headers)).status_code == 200
    (seen,) = recorders["inventory"].seen
    assert seen.headers.get_list("traceparent") == [seen.headers["traceparent"]]
    assert parse_traceparent(seen.headers["traceparent"]) is not None


@pytest.fixture
def access_lines() -> Iterator[io.StringIO]:
    """The access log as JSON lines, formatted as a process writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(_ContextFilter("test"))
    handler.setFormatter(formatter_for("json"))
    logger = logging.getLogger("enlace.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


async def test_gateway_and_service_log_the_same_trace_with_their_own_spans(
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    gateway_settings: GatewaySettings,
    keys_dir: Path,
    access_lines: io.StringIO,
) -> None:
    logged = {"access_log": True}
    async with service_apps(
        inventory_settings.model_copy(update=logged),
        cooperation_settings.model_copy(update=logged),
        keys_dir,
    ) as (inventory, cooperation):
        transports = {
            "inventory": asgi_transport(inventory),
            "cooperation": asgi_transport(cooperation),
        }
        settings = gateway_settings.model_copy(update=logged)
        async with running_gateway(settings, transports) as (app, gateway):
            token = await Tokens(app, gateway).get("trace-test", "MINEM", "inventory:read")
            headers = bearer(token) | {"traceparent": CALLER}
            assert (await gateway.get(HOLDERS, headers=headers)).is_success
    lines = [json.loads(line) for line in access_lines.getvalue().splitlines()]
    mine = [line for line in lines if line.get("path") in (HOLDERS, "/v1/holders")]
    assert len(mine) == 2  # one line by the service, one by the gateway
    assert {line["trace_id"] for line in mine} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    assert len({line["span_id"] for line in mine}) == 2
    for line in mine:
        assert RFC3339.match(line["time"]), line["time"]


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("enlace.test", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    _ContextFilter("inventory").filter(record)
    return record


def test_json_lines_hold_no_terminal_escapes_and_an_rfc3339_time() -> None:
    token = span_var.set(Span("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"))
    try:
        record = _record("\x1b[32mstarted\x1b[0m", color_message="\x1b[1mstarted\x1b[0m", port=8001)
    finally:
        span_var.reset(token)
    text = JsonLines("%(asctime)s %(message)s %(trace_id)s").format(record)
    assert "\x1b" not in text
    line = json.loads(text)
    assert line["message"] == "started"
    assert "color_message" not in line
    assert line["port"] == 8001
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert RFC3339.match(line["asctime"])


def test_console_lines_are_one_line_with_the_fields_and_colour_only_on_a_terminal() -> None:
    record = _record("request", method="GET", path="/v1/holders", status=200)
    plain = Console(colour=False).format(record)
    assert "\n" not in plain
    assert "\x1b" not in plain
    assert "inventory enlace.test: request" in plain
    assert "method=GET path=/v1/holders status=200" in plain
    assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} INFO ", plain)
    assert "\x1b[32m" in Console(colour=True).format(record)


def test_auto_format_is_console_on_a_terminal_and_json_otherwise() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(formatter_for("auto", Terminal()), Console)
    assert isinstance(formatter_for("auto", io.StringIO()), JsonLines)
    assert isinstance(formatter_for("json", Terminal()), JsonLines)
