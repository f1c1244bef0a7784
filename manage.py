#!/usr/bin/env python3
"""Enlace's command line: ``python3 manage.py run`` and ``python3 manage.py test``.

Only the standard library is used until the project's virtual environment exists: the first
call creates ``.venv``, installs the pinned dependencies (again only when a lock file
changes) and re-executes itself inside the environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
LOCK = ROOT / "requirements" / "dev.lock"
STAMP = VENV / ".enlace-lock-sha256"
SERVICES = ("inventory", "cooperation", "gateway")
DEFAULT_PORTS = {"gateway": 8000, "inventory": 8001, "cooperation": 8002}


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def install_lock() -> None:
    """Install the pinned lock with pip, showing progress: one line per package collected on
    a terminal (rewritten in place), every tenth otherwise; pip's whole output on failure."""
    total = sum(1 for line in LOCK.read_text().splitlines() if "==" in line and line[:1].isalnum())
    print(f"Installing {total} pinned packages (requirements/dev.lock) ...", flush=True)
    tty = sys.stdout.isatty()
    command = [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check"]
    command += ["--progress-bar", "off", "-r", str(LOCK)]
    output: list[str] = []
    collected = 0
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as pip:
        assert pip.stdout is not None
        for line in pip.stdout:
            output.append(line)
            if line.startswith(("Collecting ", "Requirement already satisfied: ")):
                collected += 1
                name = line.split(":", 1)[-1].split()[0] if line[0] == "R" else line.split()[1]
                if tty:
                    print(f"\r  [{collected:3}/{total}] {name:<50}", end="", flush=True)
                elif collected % 10 == 0 or collected == total:
                    print(f"  [{collected:3}/{total}] {name}", flush=True)
            elif line.startswith("Installing collected packages"):
                print(("\n" if tty else "") + f"  installing {collected} packages ...", flush=True)
    if pip.returncode != 0:
        print("".join(output), file=sys.stderr)
        raise subprocess.CalledProcessError(pip.returncode, command)
    print("  done.", flush=True)


def ensure_venv() -> None:
    """Create the virtual environment and install the pinned lock when it changed."""
    if sys.version_info < (3, 11):
        sys.exit("Enlace needs Python 3.11 or newer.")
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if not VENV_PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        install_lock()
        STAMP.write_text(digest)
    if not (VENV / "bin" / "enlace").exists():
        # The client package and its `enlace` command, from this checkout (editable).
        print("Installing the enlace command ...", flush=True)
        subprocess.run(
            [
                str(VENV_PYTHON),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--editable",
                str(ROOT),
            ],
            check=True,
        )
    if not _in_venv():
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__)), *sys.argv[1:]])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(*args: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(list(args), cwd=ROOT, env=env or _env())
    if result.returncode:
        sys.exit(result.returncode)


def migrate(services: list[str] | None = None) -> None:
    """Upgrade each service database to its newest migration."""
    for name in services or SERVICES:
        _run(sys.executable, "-m", "alembic", "--name", name, "upgrade", "head")


def seed() -> None:
    """Load the demo data (idempotent: running it twice changes nothing)."""
    _run(sys.executable, "-m", "services.inventory.seed")
    _run(sys.executable, "-m", "services.cooperation.seed")
    _run(sys.executable, "-m", "services.gateway.seed")


def _port(name: str) -> int:
    return int(os.environ.get(f"{name.upper()}_PORT", DEFAULT_PORTS[name]))


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _events_secret() -> str:
    """The secret the inventory signs the cooperation service's events with (made once)."""
    path = ROOT / "var" / "inventory-events-secret"
    if not path.exists():
        from shared.webhooks.signing import new_secret  # run() runs in the venv

        path.parent.mkdir(exist_ok=True)
        secret = new_secret()
        path.touch(mode=0o600)
        path.write_text(secret)
    return path.read_text().strip()


def run() -> None:
    """Migrate, seed and start the three processes on 127.0.0.1 until Ctrl-C."""
    (ROOT / "var").mkdir(exist_ok=True)
    env = _env()
    for name in ("inventory", "cooperation"):
        env.setdefault(f"GATEWAY_{name.upper()}_URL", f"http://127.0.0.1:{_port(name)}")
        # The gateway connects from 127.0.0.1: the services take their public URLs (prefix,
        # host) from its forwarding headers.
        env.setdefault(f"{name.upper()}_TRUSTED_PROXIES", "127.0.0.1")
        # A local run delivers events (webhooks) to receivers on this machine too: plain
        # HTTP allowed, 127.0.0.1 and localhost allow-listed past the SSRF guard.
        env.setdefault(f"{name.upper()}_WEBHOOK_ALLOW_HTTP", "true")
        env.setdefault(f"{name.upper()}_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault(
        "INVENTORY_JWKS_URL", f"http://127.0.0.1:{_port('gateway')}/.well-known/jwks.json"
    )
    env.setdefault(
        "COOPERATION_JWKS_URL", f"http://127.0.0.1:{_port('gateway')}/.well-known/jwks.json"
    )
    os.environ.update(env)
    busy = [name for name in DEFAULT_PORTS if not _port_free(_port(name))]
    if busy:
        sys.exit(
            "Port(s) in use: "
            + ", ".join(f"{name} {_port(name)}" for name in busy)
            + ". Stop what uses them or set GATEWAY_PORT / INVENTORY_PORT / COOPERATION_PORT."
        )
    migrate()
    seed()
    # The cooperation service reads inventory metrics through the gateway with a token of
    # its own demo client (the secret stays in var/, mode 0600; never printed here).
    saved = json.loads((ROOT / "var" / "demo-credentials.json").read_text())
    env.setdefault("COOPERATION_INVENTORY_API_URL", f"http://127.0.0.1:{_port('gateway')}")
    env.setdefault("COOPERATION_INVENTORY_CLIENT_ID", "cooperation-service")
    env.setdefault("COOPERATION_INVENTORY_CLIENT_SECRET", saved["cooperation-service"])
    # ...and subscribes itself to the inventory's validations, delivered to its own port and
    # signed with a secret both sides know (made once, kept in var/, mode 0600).
    env.setdefault(
        "COOPERATION_INVENTORY_EVENTS_URL",
        f"http://127.0.0.1:{_port('cooperation')}/v1/inventory-events",
    )
    env.setdefault("COOPERATION_INVENTORY_WEBHOOK_SECRET", _events_secret())
    # A plain kill (SIGTERM, SIGHUP) stops the three processes as Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    procs: list[subprocess.Popen[bytes]] = []
    for name in ("inventory", "cooperation", "gateway"):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                cwd=ROOT,
                env=env,
                start_new_session=True,
            )
        )
    gateway = f"http://127.0.0.1:{_port('gateway')}"
    time.sleep(1.5)
    print(
        "\nEnlace is running:\n"
        f"  gateway      {gateway}\n"
        f"  API docs     {gateway}/docs\n"
        f"  health       {gateway}/health\n"
        f"  inventory    http://127.0.0.1:{_port('inventory')}  (direct, for debugging)\n"
        f"  cooperation  http://127.0.0.1:{_port('cooperation')}  (direct, for debugging)\n"
        "\nTry (demo client credentials are listed above, and kept in var/demo-credentials.json):\n"
        f"  curl {gateway}/health\n"
        "  TOKEN=$(curl -s -u usaid-partner:<secret> -d grant_type=client_credentials "
        f"{gateway}/oauth/token | python3 -c "
        "'import sys,json;print(json.load(sys.stdin)[\"access_token\"])')\n"
        f'  curl -H "Authorization: Bearer $TOKEN" {gateway}/cooperation/v1/programs\n'
        f"  or open {gateway}/docs, Authorize with a client id and secret, and try it out.\n"
        "Press Ctrl-C to stop all three.\n",
        flush=True,
    )
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("A process stopped; stopping the others.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
    finally:
        # A second Ctrl-C (or kill) while stopping must not leave a process running.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


# What `test` lints before the suite runs (.pre-commit-config.yaml runs the same).
LINTS = {
    "ruff check": ("ruff", "check", "."),
    "ruff format": ("ruff", "format", "--check", "."),
    "mypy": ("mypy",),
}


def _phase(name: str, durations: dict[str, float], *args: str, env: dict[str, str]) -> int:
    start = time.monotonic()
    code = subprocess.run(list(args), cwd=ROOT, env=env).returncode
    durations[name] = time.monotonic() - start
    return code


def _side_by_side(
    phases: dict[str, list[str]], envs: dict[str, dict[str, str]], durations: dict[str, float]
) -> int:
    """Run the phases at once, each one's output kept in a file and printed whole when it
    ends (a pytest run keeps one core busy: two runs take little longer than one); the first
    failing exit code, else 0."""
    logs: dict[str, IO[bytes]] = {}
    procs: dict[str, subprocess.Popen[bytes]] = {}
    start = time.monotonic()
    try:
        for name, args in phases.items():
            logs[name] = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
            procs[name] = subprocess.Popen(
                args, cwd=ROOT, env=envs[name], stdout=logs[name], stderr=subprocess.STDOUT
            )
        print("== " + ", ".join(phases) + ": side by side ==", flush=True)
        codes: dict[str, int] = {}
        while len(codes) < len(procs):
            for name, proc in procs.items():
                if name not in codes and proc.poll() is not None:
                    codes[name] = proc.returncode
                    durations[name] = time.monotonic() - start
                    print(f"\n== {name} ==", flush=True)
                    logs[name].seek(0)
                    shutil.copyfileobj(logs[name], sys.stdout.buffer)
                    sys.stdout.buffer.flush()
            time.sleep(0.2)
        return next((code for code in codes.values() if code), 0)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
        for log in logs.values():
            log.close()


def _report(durations: dict[str, float], wall: float) -> None:
    print("\n== durations ==", flush=True)
    for name, seconds in durations.items():
        print(f"  {name:20} {seconds:7.1f} s", flush=True)
    print(f"  {'total':20} {sum(durations.values()):7.1f} s", flush=True)
    if wall < sum(durations.values()) - 1:
        print(f"  {'wall clock':20} {wall:7.1f} s  (the two test runs side by side)", flush=True)


def test(extra: list[str]) -> None:
    """Lint, type-check, then run the suite on SQLite and (when configured) PostgreSQL, the two
    runs side by side unless ENLACE_TEST_SERIAL is set; print how long each phase took at the
    end, whether or not it passed."""
    durations: dict[str, float] = {}
    code = 0
    start = time.monotonic()
    try:
        for name, args in LINTS.items():
            code = code or _phase(name, durations, sys.executable, "-m", *args, env=_env())
        if code:
            return
        pytest = [sys.executable, "-m", "pytest", *extra]
        sqlite_env = _env()
        sqlite_env.pop("ENLACE_TEST_POSTGRES_URL", None)
        if not os.environ.get("ENLACE_TEST_POSTGRES_URL"):
            print("== tests on SQLite ==", flush=True)
            code = _phase("tests on SQLite", durations, *pytest, env=sqlite_env)
            print("ENLACE_TEST_POSTGRES_URL is not set: PostgreSQL run skipped.", flush=True)
        elif os.environ.get("ENLACE_TEST_SERIAL"):
            print("== tests on SQLite ==", flush=True)
            code = _phase("tests on SQLite", durations, *pytest, env=sqlite_env)
            if code:
                return
            print("== tests on PostgreSQL ==", flush=True)
            code = _phase("tests on PostgreSQL", durations, *pytest, env=_env())
        else:
            if sys.stdout.isatty() and not any(a.startswith("--color") for a in extra):
                pytest.append("--color=yes")  # the output goes through a file first
            code = _side_by_side(
                {"tests on SQLite": pytest, "tests on PostgreSQL": pytest},
                {"tests on SQLite": sqlite_env, "tests on PostgreSQL": _env()},
                durations,
            )
    finally:
        _report(durations, time.monotonic() - start)
        if code:
            sys.exit(code)


COMMANDS = {
    "run": "migrate, load demo data and start gateway + services on 127.0.0.1",
    "test": "ruff, mypy and the test suite (SQLite, then PostgreSQL if configured)",
    "migrate": "upgrade the databases (all, or the services named)",
    "seed": "load the demo data",
    "credentials": "show the demo client credentials again (checked, reissued if stale)",
    "bench": "run a benchmark: bench <name> (see bench/README.md)",
    "messages": "add the code's new problem messages to the Spanish catalogue, to translate",
}


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in COMMANDS:
        print("usage: python3 manage.py <command> [args]\n")
        for name, text in COMMANDS.items():
            print(f"  {name:8} {text}")
        sys.exit(2)
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "run":
        run()
    elif command == "test":
        test(rest)
    elif command == "migrate":
        migrate(rest or None)
    elif command == "seed":
        seed()
    elif command == "credentials":
        migrate(["gateway"])
        _run(sys.executable, "-m", "services.gateway.seed")
    elif command == "messages":
        _run(sys.executable, "-m", "shared.message_extract")
    elif command == "bench":
        if not rest:
            sys.exit("usage: python3 manage.py bench <name> [args]")
        _run(sys.executable, "-m", f"bench.{rest[0]}", *rest[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
