"""``python -m bench.proxy``: what the gateway costs, with each of its HTTP transports.

Starts a temporary inventory service and two gateways in front of it (one with the aiohttp
transport, one with httpx's default transport), migrated and seeded, and loads the same
path (a) on the service directly, (b) through the aiohttp gateway, (c) through the httpx
gateway. Prints req/s, latency, the ratio to direct, each server's CPU µs per request and
the p99 latency the gateway adds. Method and goals: the performance spec; how to read the
table: bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from bench._harness import (
    LoadOptions,
    Sample,
    Stack,
    Target,
    add_load_arguments,
    compare,
    free_port,
    load_options,
    median,
)

DIRECT = "direct"
TRANSPORTS = ("aiohttp", "httpx")


def run_proxy_bench(
    options: LoadOptions,
    *,
    path: str = "/v1/holders?limit=3",
    postgres_url: str | None = None,
    access_log: bool = True,
    gateway_env: Mapping[str, str] | None = None,
    inventory_env: Mapping[str, str] | None = None,
) -> dict[str, list[Sample]]:
    """Start the stack, load ``path`` directly and through each gateway: samples by label.

    ``options.headers`` go with every request (a Bearer token once the gateway requires
    one); ``gateway_env``/``inventory_env`` add settings, e.g. the token verification keys.
    """
    with Stack(options.pinning, postgres_url=postgres_url) as stack:
        log_flag = "true" if access_log else "false"
        inventory_port = free_port()
        inventory_db = stack.database("inventory", seed="services.inventory.seed")
        gateway_db = stack.database("gateway")
        inventory = stack.start(
            "inventory",
            "services.inventory",
            {
                "INVENTORY_PORT": str(inventory_port),
                "INVENTORY_DATABASE_URL": inventory_db,
                "INVENTORY_ACCESS_LOG": log_flag,
                **(inventory_env or {}),
            },
            port=inventory_port,
        )
        targets = [Target(DIRECT, inventory.url + path, [inventory])]
        for transport in TRANSPORTS:
            port = free_port()
            gateway = stack.start(
                f"gateway-{transport}",
                "services.gateway",
                {
                    "GATEWAY_PORT": str(port),
                    "GATEWAY_DATABASE_URL": gateway_db,
                    "GATEWAY_INVENTORY_URL": inventory.url,
                    # Never called here; a port nobody listens on keeps the gateway honest.
                    "GATEWAY_COOPERATION_URL": f"http://127.0.0.1:{free_port()}",
                    "GATEWAY_TRANSPORT": transport,
                    "GATEWAY_ACCESS_LOG": log_flag,
                    **(gateway_env or {}),
                },
                port=port,
            )
            # The gateway's CPU is the figure; the service's shows reconnect churn (httpx).
            targets.append(
                Target(
                    f"gateway {transport}", f"{gateway.url}/inventory{path}", [gateway, inventory]
                )
            )
        return compare(targets, options)


def format_table(samples: Mapping[str, Sequence[Sample]]) -> str:
    """The medians as a table; ratios and added p99 are relative to the direct row."""
    direct = samples[DIRECT]
    direct_rps = median(s.load.rps for s in direct)
    direct_p99 = median(s.load.p99_ms for s in direct)
    head = (
        f"{'target':<16} {'req/s':>8} {'× direct':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'+p99 ms':>8} {'gateway µs/req':>15} {'service µs/req':>15} {'errors':>7} {'other':>6}"
    )
    lines = [head, "-" * len(head)]
    for label, runs in samples.items():
        rps = median(s.load.rps for s in runs)
        p99 = median(s.load.p99_ms for s in runs)
        gateway_cpu = [v for s in runs for k, v in s.cpu_us.items() if k.startswith("gateway")]
        service_cpu = median(s.cpu_us["inventory"] for s in runs)
        lines.append(
            f"{label:<16} {rps:8.0f} {rps / direct_rps:9.2f} "
            f"{median(s.load.p50_ms for s in runs):8.1f} {p99:8.1f} "
            f"{'—' if label == DIRECT else f'{p99 - direct_p99:+.1f}':>8} "
            f"{f'{median(gateway_cpu):.0f}' if gateway_cpu else '—':>15} "
            f"{service_cpu:15.0f} {sum(s.load.errors for s in runs):7d} {_other(runs):>6}"
        )
    return "\n".join(lines)


def _other(runs: Sequence[Sample]) -> str:
    shares = [s.other_load for s in runs if s.other_load is not None]
    return f"{median(shares):.0%}" if shares else "—"


def _tool_version(options: LoadOptions) -> str:
    if options.tool == "python":
        return "python (aiohttp client, 1 process; wrk not used — install it for steadier figures)"
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()
    return f"wrk -t2 ({first[0].strip() if first else 'unknown version'})"


def _stop(signum: int, _frame: object) -> NoReturn:
    # SIGTERM/SIGHUP become an exit, so the Stack's cleanup runs as it does on Ctrl-C.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see bench/README.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__)
    add_load_arguments(parser)
    parser.add_argument("--path", default="/v1/holders?limit=3", help="path on the service")
    parser.add_argument("--postgres-url", help="admin URL of a PostgreSQL server (else SQLite)")
    parser.add_argument("--no-access-log", action="store_true", help="switch access logs off")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for every server (repeatable), e.g. INVENTORY_JWKS_JSON=...",
    )
    args = parser.parse_args(argv)
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    if any("=" not in item or item.startswith("=") for item in args.env):
        parser.error("--env must look like NAME=VALUE")
    extra_env = {name: value for name, _, value in (i.partition("=") for i in args.env)}
    try:
        options = load_options(args)
    except (RuntimeError, ValueError) as exc:
        parser.error(str(exc))
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    access_log = not args.no_access_log
    print(
        f"bench proxy: GET {args.path}\n"
        f"  load generator  {_tool_version(options)}\n"
        f"  connections     {options.connections}, {options.runs} run(s) of "
        f"{options.duration_s:g} s after {options.warmup_s:g} s warm-up, medians\n"
        f"  pinning         {options.pinning.describe()}\n"
        f"  database        {'PostgreSQL' if args.postgres_url else 'SQLite (aiosqlite)'}, "
        f"access logs {'on' if access_log else 'off'}\n"
        f"  python          {platform.python_version()}, {os.cpu_count()} CPUs\n"
        f"  headers         {', '.join(options.headers) or 'none'}",
        flush=True,
    )
    if not shutil.which("taskset"):
        print("  (taskset not found: install util-linux to pin)", flush=True)
    try:
        samples = run_proxy_bench(
            options,
            path=args.path,
            postgres_url=args.postgres_url,
            access_log=access_log,
            gateway_env=extra_env,
            inventory_env=extra_env,
        )
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"bench proxy failed: {exc}", file=sys.stderr)
        return 1
    print()
    print(format_table(samples))
    print(
        "\n× direct: req/s over the direct run's. +p99: p99 added by the gateway. "
        "µs/req: CPU time\n(user+system) per request. other: share of the server CPU used by "
        "other processes\n(above ~10 % the figures are disturbed: rerun on a quiet machine)."
    )
    busy = [
        label
        for label, runs in samples.items()
        if any(s.other_load is not None and s.other_load > 0.1 for s in runs)
    ]
    if busy:
        print(f"WARNING: other processes used > 10 % of the server CPU during: {', '.join(busy)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
