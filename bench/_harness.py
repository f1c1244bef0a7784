"""Reusable pieces of Enlace's benchmarks: servers, pinning, load and CPU accounting.

The method is the one in the performance spec: every server on one CPU, the load generator
on another, a warm-up, several runs, medians, and each server's CPU time per request read
from ``/proc/<pid>/stat`` (the steadiest figure). See bench/README.md for the API.

When ``wrk`` is not installed the load comes from ``bench/_loadgen.py`` (aiohttp).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeVar

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
SERVICE_ENV_PREFIXES = ("INVENTORY_", "COOPERATION_", "GATEWAY_")
LoadTool = Literal["wrk", "python"]
# Responses slower than wrk's default 2 s timeout would be dropped from its latency figures
# and bias p99 downwards; a long timeout keeps slow responses in the percentiles.
WRK_TIMEOUT = "30s"

# Proxies from the environment must never sit between the load and the servers.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
    """One GET without proxies: (status, body); HTTP errors are returned, not raised."""
    return http_request(url, headers=headers)


def http_request(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
) -> tuple[int, bytes]:
    """One request without proxies: (status, body); HTTP errors are returned, not raised."""
    request = urllib.request.Request(  # noqa: S310 (http only)
        url, data=data, headers=dict(headers or {}), method=method
    )
    try:
        with _opener.open(request, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    """``["Name: value", ...]`` (the ``--header`` option) as a dict."""
    headers: dict[str, str] = {}
    for value in values:
        name, sep, text = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(f"header must look like 'Name: value', got {value!r}")
        headers[name.strip()] = text.strip()
    return headers


@dataclass(frozen=True)
class Pinning:
    """CPUs for the servers and for the load generator (None: not pinned)."""

    server_cpu: int | None
    load_cpu: int | None

    @classmethod
    def detect(cls) -> Pinning:
        """The first two CPUs this process may use, if taskset exists and there are two."""
        cpus = sorted(os.sched_getaffinity(0))
        if shutil.which("taskset") and len(cpus) >= 2:
            return cls(cpus[0], cpus[1])
        return cls(None, None)

    def wrap(self, role: Literal["server", "load"], argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed with ``taskset -c N``; taskset execs, so the pid stays the same."""
        cpu = self.server_cpu if role == "server" else self.load_cpu
        return list(argv) if cpu is None else ["taskset", "-c", str(cpu), *argv]

    def describe(self) -> str:
        """One line for the report."""
        if self.server_cpu is None:
            return "not pinned (needs taskset and >= 2 CPUs): figures are noisier"
        return f"servers on CPU {self.server_cpu}, load generator on CPU {self.load_cpu}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far, from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; the numeric fields follow its ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid``, recursively (e.g. nginx's workers under its master)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        kids = [int(c) for c in children]
        found += kids
        todo += kids
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and of its live descendants (0 for those that vanished)."""
    total = 0.0
    for each in (pid, *descendants(pid)):
        with contextlib.suppress(OSError, ValueError):
            total += cpu_seconds(each)
    return total


def cpu_busy_seconds(cpu: int) -> float:
    """Time CPU ``cpu`` has spent on anything but idling so far, from /proc/stat."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            # user nice system idle iowait irq softirq steal (guest is inside user already)
            ticks = [int(v) for v in line.split()[1:9]]
            return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    raise ValueError(f"no cpu{cpu} in /proc/stat")


@dataclass
class Server:
    """A server process started by :class:`Stack`."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """Process id (the server itself: taskset has exec'd into it)."""
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU time used so far, by the process and its child processes (nginx workers)."""
        return tree_cpu_seconds(self.pid)

    def log_tail(self, lines: int = 5, chars: int = 3000) -> str:
        """The end of the server's output, for error messages (JSON tracebacks are long)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])[-chars:]


@dataclass
class Stack:
    """Temporary databases and server processes, all removed on exit (also on Ctrl-C).

    Use as a context manager. SQLite files live in a temp dir; with ``postgres_url`` (a URL
    of an existing database used only to create and drop others) each database is a new
    PostgreSQL database named ``enlace_bench_<random>_<service>``.
    """

    pinning: Pinning
    postgres_url: str | None = None
    tmp: Path = field(init=False)
    servers: list[Server] = field(default_factory=list, init=False)
    _pg_databases: list[str] = field(default_factory=list, init=False)
    _tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8], init=False)

    def __enter__(self) -> Stack:
        self.tmp = Path(tempfile.mkdtemp(prefix="enlace-bench-"))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a child: hermetic (no service settings inherited) plus ``extra``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(SERVICE_ENV_PREFIXES)}
        env["PYTHONPATH"] = str(ROOT)
        env.update(extra or {})
        return env

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """Run ``python args...`` from the repo root: its stdout; raise with its output if it
        fails."""
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=self.env(env), capture_output=True, text=True
        )
        if result.returncode:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def database(self, service: str, *, seed: str | None = None) -> str:
        """A new database for ``service``, migrated (and seeded by module ``seed``): its URL."""
        if self.postgres_url is None:
            url = f"sqlite+aiosqlite:///{self.tmp / service}.db"
        else:
            name = f"enlace_bench_{self._tag}_{service}"
            _pg_admin(self.postgres_url, f'CREATE DATABASE "{name}"')
            self._pg_databases.append(name)
            url = _pg_url(self.postgres_url, name)
        env = {f"{service.upper()}_DATABASE_URL": url}
        self.run("-m", "alembic", "--name", service, "upgrade", "head", env=env)
        if seed:
            self.run("-m", seed, env=env)
        return url

    def start(
        self,
        name: str,
        module: str,
        env: Mapping[str, str],
        *,
        port: int,
        ready_path: str = "/health/live",
        timeout_s: float = 30.0,
    ) -> Server:
        """Start ``python -m module`` pinned to the server CPU; return once it answers."""
        return self.start_process(
            name,
            [sys.executable, "-m", module],
            env=env,
            port=port,
            ready_path=ready_path,
            timeout_s=timeout_s,
        )

    def start_process(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        ready_path: str = "/health/live",
        timeout_s: float = 30.0,
    ) -> Server:
        """Start any server (``argv``, e.g. nginx) pinned to the server CPU, in the foreground;
        return once ``ready_path`` on ``port`` answers 200. Stopped by :meth:`close`."""
        log_path = self.tmp / f"{name}.log"
        with log_path.open("wb") as log:
            # Own session: a Ctrl-C in the terminal reaches only us, and we stop it in order.
            process = subprocess.Popen(
                self.pinning.wrap("server", argv),
                cwd=ROOT,
                env=self.env(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(name, f"http://127.0.0.1:{port}", process, log_path)
        self.servers.append(server)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited ({process.returncode}):\n{server.log_tail()}")
            with contextlib.suppress(OSError):
                if http_get(server.url + ready_path)[0] == 200:
                    return server
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer within {timeout_s} s:\n{server.log_tail()}")

    def close(self) -> None:
        """Stop the servers (SIGINT, then SIGKILL), drop the databases, remove the temp dir."""
        for server in self.servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGINT)
        for server in self.servers:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        self.servers.clear()
        try:
            while self.postgres_url and self._pg_databases:
                name = self._pg_databases.pop()
                _pg_admin(self.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _pg_url(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _pg_admin(url: str, sql: str) -> None:
    """Run one statement; CREATE/DROP DATABASE refuse to run inside a transaction."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def execute() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(execute())


@dataclass(frozen=True)
class LoadResult:
    """One load run: completed requests, throughput, latency percentiles, failures."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx responses


def load_tool(preference: Literal["auto", "wrk", "python"] = "auto") -> LoadTool:
    """``wrk`` when installed (or asked for), else the Python fallback."""
    if preference == "python" or (preference == "auto" and not shutil.which("wrk")):
        return "python"
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk), use --loadgen python")
    return "wrk"


def run_load(
    url: str,
    *,
    duration_s: float,
    connections: int,
    pinning: Pinning,
    tool: LoadTool,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """Load ``url`` with GETs for ``duration_s`` from a separate, pinned process."""
    header_args = [f"{k}: {v}" for k, v in (headers or {}).items()]
    if tool == "wrk":
        argv = ["wrk", "-t2", f"-c{connections}", f"-d{math.ceil(duration_s)}s", "--latency"]
        argv += ["--timeout", WRK_TIMEOUT]
        argv += [a for h in header_args for a in ("-H", h)]
    else:
        argv = [sys.executable, "-m", "bench._loadgen"]
        argv += ["--duration", str(duration_s), "--connections", str(connections)]
        argv += [a for h in header_args for a in ("--header", h)]
    result = subprocess.run(
        pinning.wrap("load", [*argv, url]),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=duration_s + 120,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"load generator failed:\n{result.stdout}{result.stderr}")
    if tool == "wrk":
        return parse_wrk(result.stdout)
    return LoadResult(**json.loads(result.stdout))


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def parse_wrk(output: str) -> LoadResult:
    """The figures of ``wrk --latency`` output."""

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
        if not match:
            raise ValueError(f"no {pct}% latency in wrk output:\n{output}")
        return float(match[1]) * _WRK_UNITS[match[2]]

    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not done or not rps:
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return LoadResult(
        requests=int(done[1]),
        seconds=float(done[2]) * _WRK_UNITS[done[3]] / 1e3,
        rps=float(rps[1]),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        errors=errors + (int(non_2xx[1]) if non_2xx else 0),
    )


@dataclass(frozen=True)
class Sample:
    """A load run, the CPU µs per request of each watched server (by name) and the share
    of the server CPU that anything else used meanwhile (None when not pinned)."""

    load: LoadResult
    cpu_us: dict[str, float]
    other_load: float | None = None


def median(values: Iterable[float]) -> float:
    """Median (the figure every bench reports across runs)."""
    return float(statistics.median(list(values)))


@dataclass(frozen=True)
class LoadOptions:
    """How to load every target of a bench: the common command-line options, parsed."""

    duration_s: float
    connections: int
    runs: int
    warmup_s: float
    tool: LoadTool
    pinning: Pinning
    headers: Mapping[str, str] = field(default_factory=dict)
    # Count the requests still in flight when the load stops (one per connection: wrk and
    # the fallback wait for each answer) and the CPU the servers spend finishing them: with
    # slow answers, few requests complete in a run and the work on those in flight would
    # otherwise inflate the CPU per request.
    drain: bool = False

    def measure(self, url: str, watch: Sequence[Server], duration_s: float | None = None) -> Sample:
        """One run of :func:`run_load` (``duration_s`` overrides, e.g. for the warm-up) with
        the CPU time each of ``watch`` spent during it per request (see ``drain``)."""
        cpu = self.pinning.server_cpu
        before = [s.cpu_seconds() for s in watch]
        busy_before = cpu_busy_seconds(cpu) if cpu is not None else 0.0
        began = time.perf_counter()
        load = run_load(
            url,
            duration_s=duration_s or self.duration_s,
            connections=self.connections,
            pinning=self.pinning,
            tool=self.tool,
            headers=self.headers,
        )
        wall = time.perf_counter() - began
        spent = {s.name: s.cpu_seconds() - b for s, b in zip(watch, before, strict=True)}
        other = None
        if cpu is not None:
            # Another process on the server CPU (a test suite, PostgreSQL) skews every figure.
            other = max(0.0, cpu_busy_seconds(cpu) - busy_before - sum(spent.values())) / wall
        requests = max(load.requests, 1)
        if self.drain:
            wait_idle(watch)
            spent = {s.name: s.cpu_seconds() - b for s, b in zip(watch, before, strict=True)}
            requests = load.requests + self.connections
        return Sample(load, {k: v * 1e6 / requests for k, v in spent.items()}, other)


def add_repeatable(parser: argparse.ArgumentParser, flag: str, metavar: str, text: str) -> None:
    """An option that may be given several times; its values collect in a list."""
    parser.add_argument(flag, action="append", default=[], metavar=metavar, help=text)


def run_reported(label: str, run: Callable[[], T], report: Callable[[T], None]) -> int:
    """Run a bench and print its report; the exit status (130 on Ctrl-C, 1 if a run failed)."""
    try:
        result = run()
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"{label} failed: {exc}", file=sys.stderr)
        return 1
    report(result)
    return 0


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every load bench shares (see bench/README.md)."""
    parser.add_argument("--duration", type=float, help="seconds per run (10; --quick: 3)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    parser.add_argument("--runs", type=int, help="runs per target, medians reported (3; quick 1)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per target (3; quick 1)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s, 1 run, 1 s warm-up")
    add_repeatable(
        parser,
        "--header",
        "'NAME: VALUE'",
        "request header sent by the load generator (repeatable), e.g. Authorization",
    )
    parser.add_argument(
        "--loadgen", choices=("auto", "wrk", "python"), default="auto", help="load generator"
    )


def load_options(args: argparse.Namespace) -> LoadOptions:
    """:class:`LoadOptions` from arguments added by :func:`add_load_arguments`."""
    quick = bool(args.quick)
    return LoadOptions(
        duration_s=args.duration or (3.0 if quick else 10.0),
        connections=args.connections,
        runs=args.runs or (1 if quick else 3),
        warmup_s=args.warmup if args.warmup is not None else (1.0 if quick else 3.0),
        tool=load_tool(args.loadgen),
        pinning=Pinning.detect(),
        headers=parse_headers(args.header),
    )


def wait_idle(servers: Sequence[Server], *, quiet_s: float = 0.3, timeout_s: float = 60.0) -> None:
    """Return once ``servers`` used (almost) no CPU for ``quiet_s`` (or after ``timeout_s``):
    requests a load generator left in flight when it stopped are answered by then."""
    deadline = time.monotonic() + timeout_s
    last = sum(s.cpu_seconds() for s in servers)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = sum(s.cpu_seconds() for s in servers)
        if now - last <= 0.05 * quiet_s:  # at most one clock tick: idle
            return
        last = now


@dataclass(frozen=True)
class Target:
    """Something to load: a label, a URL, the servers whose CPU time to account, and
    headers of its own (e.g. ``If-None-Match``) on top of the options' headers."""

    label: str
    url: str
    watch: Sequence[Server]
    headers: Mapping[str, str] = field(default_factory=dict)

    def options(self, options: LoadOptions) -> LoadOptions:
        """``options`` with this target's headers added."""
        if not self.headers:
            return options
        return dataclasses.replace(options, headers={**options.headers, **self.headers})


def compare(
    targets: Sequence[Target], options: LoadOptions, *, progress: bool = True
) -> dict[str, list[Sample]]:
    """Warm every target, then run them in turn ``options.runs`` times: samples by label.

    Each target must answer 2xx/3xx first, so a missing token or a wrong path fails fast
    instead of measuring error pages. Interleaving the runs spreads slow drift of the
    machine over all targets alike, which keeps their ratios steady.
    """
    for target in targets:
        status, body = http_get(target.url, target.options(options).headers)
        if status >= 400:
            hint = " (pass --header 'Authorization: Bearer ...')" if status == 401 else ""
            raise RuntimeError(
                f"{target.label}: GET {target.url} -> {status}{hint}: {body[:300]!r}"
            )
        if options.warmup_s > 0:
            target.options(options).measure(target.url, target.watch, options.warmup_s)
            wait_idle(target.watch)
    samples: dict[str, list[Sample]] = {t.label: [] for t in targets}
    for run in range(1, options.runs + 1):
        for target in targets:
            sample = target.options(options).measure(target.url, target.watch)
            samples[target.label].append(sample)
            if progress:
                cpu = " ".join(f"{k} {v:.0f}" for k, v in sample.cpu_us.items())
                other = "" if sample.other_load is None else f"  other {sample.other_load:.0%}"
                print(
                    f"  run {run} {target.label:<16} {sample.load.rps:7.0f} req/s  "
                    f"p50 {sample.load.p50_ms:6.1f} ms  p99 {sample.load.p99_ms:6.1f} ms  "
                    f"errors {sample.load.errors}  µs/req: {cpu}{other}",
                    flush=True,
                )
            # Let closed connections drain, and the servers finish what was still queued
            # (whose CPU time would otherwise count in the next run).
            time.sleep(0.5)
            wait_idle(target.watch)
    return samples
