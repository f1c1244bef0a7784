"""``python -m bench.services``: what the inventory and cooperation services cost per read.

Starts both services directly (no gateway) on a temporary SQLite database and, with
``--postgres-url``, again on new PostgreSQL databases; each is migrated and loaded with the
demo data, every demo PCB item and activity repeated (``bench.services_data``) so that pages
of 50 are full. The services trust a signing key made for the run (``<SERVICE>_JWKS_JSON``)
and every request carries a token signed with it (RS256, as the gateway issues them). Loads
each representative read in turn and prints req/s and the service's CPU µs per request
(medians), ``/health/live`` as the framework floor, and a line per goal (PERFORMANCE.md: a
small read <= 1,000 µs, a 304 <= 600 µs, on both databases). Method: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench._harness import (
    LoadOptions,
    Sample,
    Server,
    Stack,
    Target,
    add_load_arguments,
    compare,
    free_port,
    http_get,
    load_options,
    median,
    run_reported,
)
from bench.proxy import install_signal_handlers, tool_version
from shared.tokens import generate_private_key_pem, issue_access_token, signing_key

SMALL_READ_GOAL_US = 1000.0
NOT_MODIFIED_GOAL_US = 600.0
SMALL, PAGES, REVALIDATED = "small reads", "pages of 50", "304 revalidation"
FLOOR = "/health/live (floor)"
REVALIDATE = "activities 304"
PROGRAM = "US-PE-ECWP-2015-2018"
# A non-reviewer reading validated inventory data and the activities it may see.
ORG, SCOPES = "OEFA", ["inventory:read", "cooperation:read"]
ISSUER, AUDIENCE = "urn:enlace:gateway", "urn:enlace:api"
TOKEN_LIFETIME_S = 3600
COPIES = {"inventory": 8, "cooperation": 5}  # 64 PCB items, 70 activities


@dataclass(frozen=True)
class Read:
    """One read: its label, service and path; ``revalidate``: sent with ``If-None-Match``
    set to the ETag of a first GET (answered 304); ``goal``: the goal line it counts in."""

    label: str
    service: str
    path: str
    revalidate: bool = False
    goal: str | None = SMALL


READS = (
    Read(FLOOR, "inventory", "/health/live", goal=None),
    Read("holders page (3)", "inventory", "/v1/holders?limit=3"),
    Read("PCB items page (50)", "inventory", "/v1/pcb-items?limit=50", goal=PAGES),
    Read("national summary", "inventory", "/v1/reports/national-summary"),
    Read("activities page (50)", "cooperation", "/v1/activities?limit=50", goal=PAGES),
    Read("activity matrix", "cooperation", f"/v1/matrix?program={PROGRAM}"),
    Read(REVALIDATE, "cooperation", "/v1/activities?limit=50", revalidate=True, goal=REVALIDATED),
)
# Goal lines: which reads, and the bound of each (CPU µs per request).
GOALS = {SMALL: SMALL_READ_GOAL_US, PAGES: SMALL_READ_GOAL_US, REVALIDATED: NOT_MODIFIED_GOAL_US}
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def first_etag(url: str, headers: Mapping[str, str]) -> str:
    """The ETag of a 200 answer to ``url``."""
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310 (http only)
    with _opener.open(request, timeout=10) as response:
        tag = response.headers.get("ETag")
    if not tag:
        raise RuntimeError(f"GET {url} has no ETag: no 304 to measure")
    return str(tag)


def bench_token() -> tuple[str, str]:
    """A signing key made for this run: (its JWK Set as JSON, a token signed with it)."""
    key = signing_key("bench-services", generate_private_key_pem("RS256"))
    token, _ = issue_access_token(
        key,
        issuer=ISSUER,
        audience=AUDIENCE,
        client_id="bench",
        org=ORG,
        scopes=SCOPES,
        lifetime_s=TOKEN_LIFETIME_S,
    )
    return json.dumps({"keys": [key.public_jwk]}), token


def run_database(
    options: LoadOptions,
    reads: Sequence[Read],
    *,
    postgres_url: str | None,
    access_log: bool,
) -> dict[str, list[Sample]]:
    """Both services on one kind of database, every read loaded in turn: samples by label."""
    jwks, token = bench_token()
    with Stack(options.pinning, postgres_url=postgres_url) as stack:
        servers: dict[str, Server] = {}
        for service in sorted({r.service for r in reads}):
            upper = service.upper()
            url = stack.database(service)
            stack.run(
                "-m",
                "bench.services_data",
                service,
                "--copies",
                str(COPIES[service]),
                env={f"{upper}_DATABASE_URL": url},
            )
            port = free_port()
            servers[service] = stack.start(
                service,
                f"services.{service}",
                {
                    f"{upper}_PORT": str(port),
                    f"{upper}_DATABASE_URL": url,
                    f"{upper}_ACCESS_LOG": "true" if access_log else "false",
                    f"{upper}_JWKS_JSON": jwks,
                },
                port=port,
            )
        auth = {"Authorization": f"Bearer {token}", **options.headers}
        options = LoadOptions(**{**options.__dict__, "headers": auth, "drain": True})
        _check_authenticated(servers["inventory"].url + "/v1/holders?limit=3")
        targets = []
        for read in reads:
            server = servers[read.service]
            url = server.url + read.path
            extra = {"If-None-Match": first_etag(url, auth)} if read.revalidate else {}
            targets.append(Target(read.label, url, [server], extra))
        return compare(targets, options)


def _check_authenticated(url: str) -> None:
    """Without the token a read is refused: the bench measures the authenticated path."""
    status, _ = http_get(url)
    if status != 401:
        raise RuntimeError(f"GET {url} without a token -> {status}, expected 401")


Results = dict[str, dict[str, list[Sample]]]  # database -> read label -> samples


def run_services_bench(
    options: LoadOptions,
    reads: Sequence[Read],
    *,
    databases: Sequence[str],
    postgres_url: str | None,
    access_log: bool,
) -> Results:
    """Every read on every database: samples by database, then by read."""
    results: Results = {}
    for database in databases:
        print(f"\n{database}:", flush=True)
        url = postgres_url if database == "PostgreSQL" else None
        results[database] = run_database(options, reads, postgres_url=url, access_log=access_log)
    return results


def _cpu(runs: Sequence[Sample]) -> float:
    return median(next(iter(s.cpu_us.values())) for s in runs)


def format_table(results: Results) -> str:
    """One row per read and database: medians, and the CPU as a multiple of the floor."""
    head = (
        f"{'read':<22} {'database':<11} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'service µs/req':>15} {'× floor':>8} {'errors':>7} {'other':>6}"
    )
    lines = [head, "-" * len(head)]
    for database, samples in results.items():
        floor = _cpu(samples[FLOOR]) if FLOOR in samples else None
        for label, runs in samples.items():
            cpu = _cpu(runs)
            shares = [s.other_load for s in runs if s.other_load is not None]
            lines.append(
                f"{label:<22} {database:<11} {median(s.load.rps for s in runs):7.0f} "
                f"{median(s.load.p50_ms for s in runs):7.1f} "
                f"{median(s.load.p99_ms for s in runs):7.1f} {cpu:15.0f} "
                f"{f'{cpu / floor:.2f}' if floor else '—':>8} "
                f"{sum(s.load.errors for s in runs):7d} "
                f"{f'{median(shares):.0%}' if shares else '—':>6}"
            )
    return "\n".join(lines)


def goal_lines(results: Results, reads: Sequence[Read], databases: Sequence[str]) -> list[str]:
    """A line per goal and database: the worst read against its bound, met or not."""
    lines = []
    for database in ("SQLite", "PostgreSQL"):
        if database not in databases:
            hint = "" if database == "SQLite" else " (--postgres-url)"
            lines.append(f"{database}: not measured{hint}")
            continue
        samples = results[database]
        for what, bound in GOALS.items():
            chosen = [r for r in reads if r.goal == what]
            if not chosen:
                continue
            worst = max(chosen, key=lambda r: _cpu(samples[r.label]))
            cpu = _cpu(samples[worst.label])
            verdict = "met" if cpu <= bound else "NOT met"
            lines.append(
                f"{database}: {what} <= {bound:,.0f} µs CPU/request: {verdict} "
                f"(highest: {worst.label}, {cpu:,.0f} µs)"
            )
    return lines


def print_report(results: Results, reads: Sequence[Read], databases: Sequence[str]) -> None:
    """The table, the goal lines and the notes."""
    print()
    print(format_table(results))
    print()
    print("\n".join(goal_lines(results, reads, databases)))
    print(
        "\nservice µs/req: CPU time (user+system) of the service process per request (not the "
        "database server's).\n× floor: that over /health/live's (the framework alone). other: "
        "share of the server CPU used by\nother processes (PostgreSQL's backends count here); "
        "above ~10 % the figures are disturbed."
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see bench/README.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.services", description=__doc__)
    add_load_arguments(parser)
    parser.add_argument("--postgres-url", help="admin URL of a PostgreSQL server (adds it)")
    parser.add_argument(
        "--only", choices=("sqlite", "postgres"), help="one database only (postgres: needs the URL)"
    )
    parser.add_argument(
        "--read",
        action="append",
        default=[],
        metavar="TEXT",
        help="only the reads whose label contains TEXT (repeatable; the floor always runs)",
    )
    parser.add_argument("--no-access-log", action="store_true", help="switch access logs off")
    args = parser.parse_args(argv)
    try:
        options = load_options(args)
    except (RuntimeError, ValueError) as exc:
        parser.error(str(exc))
    if args.only == "postgres" and not args.postgres_url:
        parser.error("--only postgres needs --postgres-url")
    databases = [
        name
        for name, key, wanted in (
            ("SQLite", "sqlite", True),
            ("PostgreSQL", "postgres", bool(args.postgres_url)),
        )
        if wanted and args.only in (None, key)
    ]
    reads = [
        r
        for r in READS
        if r.label == FLOOR or not args.read or any(t in r.label for t in args.read)
    ]
    install_signal_handlers()
    access_log = not args.no_access_log
    print(
        f"bench services: {len(reads)} reads, authenticated (Bearer RS256, org {ORG}, "
        f"{' '.join(SCOPES)}), direct\n"
        f"  load generator  {tool_version(options)}\n"
        f"  connections     {options.connections}, {options.runs} run(s) of "
        f"{options.duration_s:g} s after {options.warmup_s:g} s warm-up, medians\n"
        f"  pinning         {options.pinning.describe()}\n"
        f"  databases       {', '.join(databases)}; access logs {'on' if access_log else 'off'}\n"
        f"  data            demo data, PCB items x{COPIES['inventory']}, activities "
        f"x{COPIES['cooperation']}\n"
        f"  python          {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}",
        flush=True,
    )
    return run_reported(
        "bench services",
        lambda: run_services_bench(
            options,
            reads,
            databases=databases,
            postgres_url=args.postgres_url,
            access_log=access_log,
        ),
        lambda results: print_report(results, reads, databases),
    )


if __name__ == "__main__":
    sys.exit(main())
