"""Prometheus metrics of one process (``GET /metrics``, text exposition format).

Each process has its own registry: requests by route template, method and status, latency
histograms by route, the database pool, and what a process adds (the gateway: audit entries
waiting to be stored, circuit breakers). A route's *template* (``/v1/holders/{holder_id}``)
labels its requests, never the raw path, so the number of series stays bounded; a forwarded
request is labelled with its backend (``/inventory/*``), one with no route ``unmatched``.

``/metrics`` answers only callers in ``metrics_allow`` (loopback by default); anyone else
gets a 404, and the gateway never forwards a service's ``/metrics``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import Scope

from shared.problems import Problem

# Seconds; from a cached read (~1 ms) to a slow export.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Gauges(Collector):
    """Gauges read when scraped: ``read`` yields (name, help, labels, value)."""

    def __init__(self, read: Callable[[], Iterable[tuple[str, str, dict[str, str], float]]]):
        self.read = read

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for name, help_text, labels, value in self.read():
            family = families.get(name)
            if family is None:
                family = families[name] = GaugeMetricFamily(name, help_text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
        yield from families.values()


class ProcessMetrics:
    """The metrics of one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "enlace_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "enlace_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        """Count one answered request (the labelled series looked up once per label set:
        prometheus-client's own lookup costs more than the count)."""
        key = (scope["method"], route_label(scope), status)
        series = self._series.get(key)
        if series is None:
            method, route, _ = key
            series = self._series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        series[0].inc()
        series[1].observe(seconds)

    def gauges(self, read: Callable[[], Iterable[tuple[str, str, dict[str, str], float]]]) -> None:
        """Add gauges read at each scrape."""
        self.registry.register(Gauges(read))

    def render(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)


def route_label(scope: Scope) -> str:
    """The route template that answered, the backend of a forwarded request, or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    label: str = scope.get("state", {}).get("route_label", "unmatched")
    return label


def pool_gauges(database: Callable[[], Any]) -> Iterator[tuple[str, str, dict[str, str], float]]:
    """The connection pool of ``database()`` (when it has a sized pool)."""
    db = database()
    pool = getattr(getattr(getattr(db, "engine", None), "sync_engine", None), "pool", None)
    if pool is None or not hasattr(pool, "checkedout"):
        return
    help_text = "Database connections of the pool, by state."
    yield "enlace_db_pool_connections", help_text, {"state": "in_use"}, pool.checkedout()
    yield "enlace_db_pool_connections", help_text, {"state": "idle"}, pool.checkedin()
    yield (
        "enlace_db_pool_overflow",
        "Connections open beyond the pool size.",
        {},
        max(0, pool.overflow()),
    )
    yield "enlace_db_pool_size", "Connections the pool keeps.", {}, pool.size()


def allowed_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The comma-separated networks of a ``metrics_allow`` setting."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def metrics_router(allow: str) -> APIRouter:
    """``GET /metrics`` for callers in ``allow``; a 404 problem for anyone else."""
    networks = allowed_networks(allow)
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is None or not any(address in network for network in networks):
            raise Problem(404, "not-found", "No such resource.")
        body = request.app.state.metrics.render()
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
