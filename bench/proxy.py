"""``python -m bench.proxy``: what the gateway costs on the authenticated path, beside nginx.

Starts a temporary inventory service, two gateways in front of it (the aiohttp transport
and httpx's default transport) and, when installed, nginx as a plain reverse proxy in front
of the same service, all migrated and seeded. Registers a bench API client, gets an access
token (RS256) from the gateway, and loads the same path with ``Authorization: Bearer`` on
every request: (a) on the service directly (it verifies the token itself), (b) through
nginx, (c) through each gateway (which verifies it, rate-limits, audits and forwards it).
Prints req/s, latency, the ratios to nginx and to direct, each server's CPU µs per request
and the p99 latency each proxy adds. Method and goals: the performance spec; how to read
the table: bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NoReturn

from bench._harness import (
    LoadOptions,
    Sample,
    Server,
    Stack,
    Target,
    add_load_arguments,
    add_repeatable,
    compare,
    free_port,
    http_get,
    http_request,
    load_options,
    median,
    run_reported,
)

DIRECT = "direct"
NGINX = "nginx"
TRANSPORTS = ("aiohttp", "httpx")
GOAL_LABEL = "gateway aiohttp"
# PERFORMANCE.md: authenticated gateway req/s over nginx's, gateway CPU µs per proxied
# request, and the gateway path's p99 over its own p50 (at the bench's connections).
GOAL = 0.75
GOAL_CPU_US = 400
GOAL_TAIL = 2.0
BENCH_CLIENT = "bench"
BENCH_SCOPES = "inventory:read"
# The longest lifetime the gateway accepts; a bench must finish before its token expires.
TOKEN_LIFETIME_S = 3600
# Per minute: far above any load one CPU can serve, so the limiter counts but never refuses.
BENCH_RATE_LIMIT = 100_000_000
NGINX_READY_PATH = "/nginx-ready"
NO_NGINX = "nginx not installed: ratio to nginx not measured"


def nginx_binary() -> str | None:
    """The nginx executable (PATH, then /usr/sbin where Debian puts it), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def nginx_config(
    tmp: Path, *, port: int, upstream_port: int, connections: int, access_log: bool
) -> str:
    """A one-worker nginx reverse proxy: ``/inventory/...`` to the service over keep-alive
    upstream connections (one per client connection), everything it writes in ``tmp``."""
    log = f"{tmp / 'nginx-access.log'}" if access_log else "off"
    keepalive = max(connections, 16)
    return f"""\
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log stderr warn;
events {{
    worker_connections {max(4 * connections, 1024)};
}}
http {{
    access_log {log};
    client_body_temp_path {tmp / "nginx-body"};
    proxy_temp_path {tmp / "nginx-proxy"};
    fastcgi_temp_path {tmp / "nginx-fastcgi"};
    uwsgi_temp_path {tmp / "nginx-uwsgi"};
    scgi_temp_path {tmp / "nginx-scgi"};
    # Never buffer responses to disk (the worker may not write in the temp dir).
    proxy_max_temp_file_size 0;
    # wrk and the gateways keep connections open for the whole run; so does nginx here.
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    upstream inventory {{
        server 127.0.0.1:{upstream_port};
        keepalive {keepalive};
        keepalive_requests 1000000;
        keepalive_timeout 75s;
    }}
    server {{
        listen 127.0.0.1:{port};
        location = {NGINX_READY_PATH} {{
            access_log off;
            return 200 "ok";
        }}
        location /inventory/ {{
            proxy_pass http://inventory/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
"""


def start_nginx(
    stack: Stack, binary: str, *, upstream_port: int, connections: int, access_log: bool
) -> Server:
    """nginx in the foreground (``daemon off``), pinned like the other servers."""
    port = free_port()
    conf = stack.tmp / "nginx.conf"
    conf.write_text(
        nginx_config(
            stack.tmp,
            port=port,
            upstream_port=upstream_port,
            connections=connections,
            access_log=access_log,
        )
    )
    argv = [binary, "-p", str(stack.tmp), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"]
    return stack.start_process(NGINX, argv, port=port, ready_path=NGINX_READY_PATH)


def create_bench_client(stack: Stack, gateway_env: Mapping[str, str]) -> tuple[str, str]:
    """Register the bench client (read scope, a rate limit never reached): (id, secret)."""
    out = stack.run(
        "-m",
        "services.gateway.cli",
        "clients",
        "create",
        BENCH_CLIENT,
        "--org",
        "MINEM",
        "--scopes",
        BENCH_SCOPES,
        "--rate-limit",
        str(BENCH_RATE_LIMIT),
        env=gateway_env,
    )
    created = json.loads(out.strip().splitlines()[-1])
    return str(created["client_id"]), str(created["client_secret"])


def get_token(gateway_url: str, client_id: str, secret: str) -> str:
    """An access token by the client-credentials grant (HTTP Basic, RFC 6749 2.3.1)."""
    basic = base64.b64encode(
        f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(secret)}".encode()
    ).decode()
    status, body = http_request(
        gateway_url + "/oauth/token",
        method="POST",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        data=b"grant_type=client_credentials",
    )
    if status != 200:
        raise RuntimeError(f"POST /oauth/token -> {status}: {body[:300]!r}")
    return str(json.loads(body)["access_token"])


def run_proxy_bench(
    options: LoadOptions,
    *,
    path: str = "/v1/holders?limit=3",
    postgres_url: str | None = None,
    access_log: bool = True,
    gateway_env: Mapping[str, str] | None = None,
    inventory_env: Mapping[str, str] | None = None,
    nginx: bool = True,
    transports: Sequence[str] = TRANSPORTS,
) -> dict[str, list[Sample]]:
    """Start the stack, load ``path`` with a bearer token directly, through nginx (when
    ``nginx`` and installed) and through each gateway: samples by label.

    The token is minted here and added to ``options.headers`` (an ``Authorization`` given
    there wins); ``gateway_env``/``inventory_env`` add or override server settings.
    """
    if not transports:
        raise ValueError("at least one gateway transport is needed (it issues the token)")
    with Stack(options.pinning, postgres_url=postgres_url) as stack:
        log_flag = "true" if access_log else "false"
        inventory_port = free_port()
        inventory_db = stack.database("inventory", seed="services.inventory.seed")
        gateway_db = stack.database("gateway")
        common_gateway_env = {
            "GATEWAY_DATABASE_URL": gateway_db,
            # Empty: the first gateway creates the signing key, the others load it.
            "GATEWAY_KEYS_DIR": str(stack.tmp / "keys"),
            "GATEWAY_TOKEN_LIFETIME_S": str(TOKEN_LIFETIME_S),
            **(gateway_env or {}),
        }
        client_id, secret = create_bench_client(stack, common_gateway_env)
        gateways: dict[str, Server] = {}
        for transport in transports:
            port = free_port()
            gateways[transport] = stack.start(
                f"gateway-{transport}",
                "services.gateway",
                {
                    "GATEWAY_PORT": str(port),
                    "GATEWAY_INVENTORY_URL": f"http://127.0.0.1:{inventory_port}",
                    # Never called here; a port nobody listens on keeps the gateway honest.
                    "GATEWAY_COOPERATION_URL": f"http://127.0.0.1:{free_port()}",
                    "GATEWAY_TRANSPORT": transport,
                    "GATEWAY_ACCESS_LOG": log_flag,
                    **common_gateway_env,
                },
                port=port,
            )
        first = next(iter(gateways.values()))
        token = get_token(first.url, client_id, secret)
        inventory = stack.start(
            "inventory",
            "services.inventory",
            {
                "INVENTORY_PORT": str(inventory_port),
                "INVENTORY_DATABASE_URL": inventory_db,
                "INVENTORY_ACCESS_LOG": log_flag,
                # As in production: the service fetches the gateway's JWKS once and caches it.
                "INVENTORY_JWKS_URL": f"{first.url}/.well-known/jwks.json",
                **(inventory_env or {}),
            },
            port=inventory_port,
        )
        if not any(name.lower() == "authorization" for name in options.headers):
            headers = {"Authorization": f"Bearer {token}", **options.headers}
            options = dataclasses.replace(options, headers=headers)
        targets = [Target(DIRECT, inventory.url + path, [inventory])]
        binary = nginx_binary() if nginx else None
        if binary:
            proxy = start_nginx(
                stack,
                binary,
                upstream_port=inventory_port,
                connections=options.connections,
                access_log=access_log,
            )
            targets.append(Target(NGINX, f"{proxy.url}/inventory{path}", [proxy, inventory]))
        # Each proxy's CPU is the figure; the service's shows reconnect churn (httpx).
        targets += [
            Target(f"gateway {t}", f"{g.url}/inventory{path}", [g, inventory])
            for t, g in gateways.items()
        ]
        _check_authenticated(inventory.url + path, targets[-1].url)
        return compare(targets, options)


def _check_authenticated(direct_url: str, gateway_url: str) -> None:
    """Both the service and the gateway must refuse a request without the token, or the
    bench would not measure the authenticated path."""
    for url in (direct_url, gateway_url):
        status, _ = http_get(url)
        if status != 401:
            raise RuntimeError(f"GET {url} without a token -> {status}, expected 401")


def format_table(samples: Mapping[str, Sequence[Sample]]) -> str:
    """The medians as a table; ratios to nginx (when measured) and to direct, added p99
    relative to the direct row."""
    direct_rps = median(s.load.rps for s in samples[DIRECT])
    direct_p99 = median(s.load.p99_ms for s in samples[DIRECT])
    direct_p50 = median(s.load.p50_ms for s in samples[DIRECT])
    nginx_rps = median(s.load.rps for s in samples[NGINX]) if NGINX in samples else None
    head = (
        f"{'target':<16} {'req/s':>7} {'× nginx':>8} {'× direct':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'+p50 ms':>8} {'+p99 ms':>8} {'proxy µs/req':>13} {'service µs/req':>15} "
        f"{'errors':>7} {'other':>6}"
    )
    lines = [head, "-" * len(head)]
    for label, runs in samples.items():
        rps = median(s.load.rps for s in runs)
        p99 = median(s.load.p99_ms for s in runs)
        p50 = median(s.load.p50_ms for s in runs)
        proxy_cpu = [v for s in runs for k, v in s.cpu_us.items() if k != "inventory"]
        service_cpu = median(s.cpu_us["inventory"] for s in runs)
        lines.append(
            f"{label:<16} {rps:7.0f} {f'{rps / nginx_rps:.2f}' if nginx_rps else '—':>8} "
            f"{rps / direct_rps:9.2f} {p50:7.1f} {p99:7.1f} "
            f"{'—' if label == DIRECT else f'{p50 - direct_p50:+.1f}':>8} "
            f"{'—' if label == DIRECT else f'{p99 - direct_p99:+.1f}':>8} "
            f"{f'{median(proxy_cpu):.0f}' if proxy_cpu else '—':>13} "
            f"{service_cpu:15.0f} {sum(s.load.errors for s in runs):7d} {_other(runs):>6}"
        )
    return "\n".join(lines)


def goal_lines(samples: Mapping[str, Sequence[Sample]]) -> list[str]:
    """One line per goal of the gateway (aiohttp), each saying met or NOT met."""
    if GOAL_LABEL not in samples:
        return ["gateway aiohttp not run: its goals not measured"]
    runs = samples[GOAL_LABEL]
    p50 = median(s.load.p50_ms for s in runs)
    p99 = median(s.load.p99_ms for s in runs)
    cpu = median(s.cpu_us[k] for s in runs for k in s.cpu_us if k != "inventory")
    lines = []
    if NGINX in samples:
        gateway = median(s.load.rps for s in runs)
        ratio = gateway / median(s.load.rps for s in samples[NGINX])
        added = p99 - median(s.load.p99_ms for s in samples[NGINX])
        lines.append(
            f"gateway (aiohttp) / nginx = {ratio:.2f} (goal >= {GOAL}: {_verdict(ratio >= GOAL)});"
            f" p99 {added:+.1f} ms over nginx"
        )
    else:
        lines.append("no nginx row: ratio to nginx not measured")
    lines.append(
        f"gateway CPU per proxied request = {cpu:.0f} µs (goal <= {GOAL_CPU_US}: "
        f"{_verdict(cpu <= GOAL_CPU_US)})"
    )
    tail = p99 / p50 if p50 > 0 else math.inf
    lines.append(
        f"gateway p99 / p50 = {p99:.1f} / {p50:.1f} ms = {tail:.2f} (goal <= {GOAL_TAIL:g}: "
        f"{_verdict(tail <= GOAL_TAIL)})"
    )
    return lines


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _other(runs: Sequence[Sample]) -> str:
    shares = [s.other_load for s in runs if s.other_load is not None]
    return f"{median(shares):.0%}" if shares else "—"


def tool_version(options: LoadOptions) -> str:
    """The load generator, for the report header."""
    if options.tool == "python":
        return "python (aiohttp client, 1 process; wrk not used — install it for steadier figures)"
    result = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).splitlines()
    return f"wrk -t2 ({first[0].strip() if first else 'unknown version'})"


def _nginx_version(binary: str | None) -> str:
    if binary is None:
        return "not installed (apt-get install nginx-light): no × nginx column"
    result = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (result.stderr or result.stdout).strip().removeprefix("nginx version: ") or binary


def estimated_seconds(options: LoadOptions, targets: int) -> float:
    """Rough wall time of the load part (warm-up, runs, pauses), for the token lifetime."""
    return targets * (options.warmup_s + options.runs * (options.duration_s + 1.5))


def print_report(samples: Mapping[str, Sequence[Sample]]) -> None:
    """The table, the goal line and the notes."""
    print()
    print(format_table(samples))
    print()
    print("\n".join(goal_lines(samples)))
    print(
        "\n× nginx / × direct: req/s over the nginx / direct run's. +p50 / +p99: latency added "
        "over\ndirect. µs/req: CPU time (user+system) per request of the proxy (nginx: master + "
        "worker)\nand of the service. other: share of the server CPU used by other processes "
        "(above ~10 %\nthe figures are disturbed: rerun on a quiet machine). Every request "
        "carries a Bearer token\n(RS256) that the gateway and the service each verify "
        "(cached after the first\ntime); nginx passes it on."
    )
    busy = [
        label
        for label, runs in samples.items()
        if any(s.other_load is not None and s.other_load > 0.1 for s in runs)
    ]
    if busy:
        print(f"WARNING: other processes used > 10 % of the server CPU during: {', '.join(busy)}")


def _stop(signum: int, _frame: object) -> NoReturn:
    # SIGTERM/SIGHUP become an exit, so the Stack's cleanup runs as it does on Ctrl-C.
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP stop the bench like Ctrl-C (servers stopped, temp dir removed)."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see bench/README.md."""
    parser = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__)
    add_load_arguments(parser)
    parser.add_argument("--path", default="/v1/holders?limit=3", help="path on the service")
    parser.add_argument("--postgres-url", help="admin URL of a PostgreSQL server (else SQLite)")
    parser.add_argument("--no-access-log", action="store_true", help="switch access logs off")
    parser.add_argument("--no-nginx", action="store_true", help="skip the nginx row")
    add_repeatable(
        parser,
        "--env",
        "NAME=VALUE",
        "extra setting for every server (repeatable), e.g. GATEWAY_REDIS_URL=...",
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
    binary = None if args.no_nginx else nginx_binary()
    if estimated_seconds(options, 2 + len(TRANSPORTS)) > TOKEN_LIFETIME_S - 300:
        parser.error(f"runs would outlast the token ({TOKEN_LIFETIME_S} s): fewer or shorter")
    install_signal_handlers()
    access_log = not args.no_access_log
    print_header(options, args.path, args.postgres_url, access_log, binary)
    return run_reported(
        "bench proxy",
        lambda: run_proxy_bench(
            options,
            path=args.path,
            postgres_url=args.postgres_url,
            access_log=access_log,
            gateway_env=extra_env,
            inventory_env=extra_env,
            nginx=not args.no_nginx,
        ),
        print_report,
    )


def print_header(
    options: LoadOptions,
    path: str,
    postgres_url: str | None,
    access_log: bool,
    nginx: str | None,
) -> None:
    """What runs, how: printed before the first run."""
    extra = [h for h in options.headers if h.lower() != "authorization"]
    print(
        f"bench proxy: GET {path}, authenticated (Bearer RS256 token, client {BENCH_CLIENT!r},"
        f" {BENCH_SCOPES})\n"
        f"  load generator  {tool_version(options)}\n"
        f"  connections     {options.connections}, {options.runs} run(s) of "
        f"{options.duration_s:g} s after {options.warmup_s:g} s warm-up, medians\n"
        f"  pinning         {options.pinning.describe()}\n"
        f"  database        {'PostgreSQL' if postgres_url else 'SQLite (aiosqlite)'}, "
        f"access logs {'on' if access_log else 'off'}\n"
        f"  nginx           {_nginx_version(nginx)}\n"
        f"  python          {platform.python_version()}, {os.cpu_count()} CPUs\n"
        f"  headers         Authorization{''.join(', ' + h for h in extra)}",
        flush=True,
    )
    if not shutil.which("taskset"):
        print("  (taskset not found: install util-linux to pin)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
