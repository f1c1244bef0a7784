"""The deployment files name only things that exist in the project.

CI has no Docker engine and no cluster, so these tests read deploy/Dockerfile,
docker-compose.yml and deploy/k8s/*.yaml and check them against the code: every
``python -m`` module is importable, every ``alembic --name`` is a section of alembic.ini,
every INVENTORY_/COOPERATION_/GATEWAY_ variable is a settings field, every health check
calls an existing route on the process's port, and each process waits for its migration.
"""

from __future__ import annotations

import configparser
import importlib.util
import ipaddress
import json
import re
import shlex
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from fastapi import FastAPI
from pydantic_settings import BaseSettings

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.settings import CooperationSettings
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.inventory.app import create_app as create_inventory
from services.inventory.settings import InventorySettings

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("inventory", "cooperation", "gateway")
SETTINGS: dict[str, type[BaseSettings]] = {
    "inventory": InventorySettings,
    "cooperation": CooperationSettings,
    "gateway": GatewaySettings,
}
APPS = {"inventory": create_inventory, "cooperation": create_cooperation, "gateway": create_gateway}


@dataclass
class Container:
    """One way the image is run: a compose service, a Kubernetes container, the default."""

    where: str
    command: list[str]
    env: dict[str, str | None] = field(default_factory=dict)  # None: from a Secret
    checks: list[tuple[str, int]] = field(default_factory=list)  # health check (path, port)


# --- reading the files ----------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def default_command() -> list[str]:
    """The image's CMD (exec form)."""
    [cmd] = [arguments for keyword, arguments in dockerfile() if keyword == "CMD"]
    command: list[str] = json.loads(cmd)
    return command


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def url_checks(test: list[str] | str) -> list[tuple[str, int]]:
    """(path, port) of every http://host:port/path in a health check command."""
    text = test if isinstance(test, str) else " ".join(test)
    found = re.findall(r"http://[\w.-]+:(\d+)(/[\w./-]*)", text)
    return [(path, int(port)) for port, path in found]


def compose_containers() -> list[Container]:
    containers = []
    for name, service in compose()["services"].items():
        if "build" not in service:  # postgres
            continue
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.partition("=")[::2] for item in env)
        command = service.get("command") or default_command()
        if isinstance(command, str):
            command = shlex.split(command)
        checks = url_checks(service.get("healthcheck", {}).get("test", []))
        containers.append(Container(f"compose:{name}", command, env, checks))
    return containers


def k8s_containers() -> list[Container]:
    containers = []
    for doc in k8s_documents():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for spec in doc["spec"]["template"]["spec"]["containers"]:
            command = spec.get("command", []) + spec.get("args", []) or default_command()
            env = {item["name"]: item.get("value") for item in spec.get("env", [])}
            ports = {port.get("name"): port["containerPort"] for port in spec.get("ports", [])}
            checks = []
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in spec:
                    port = spec[probe]["httpGet"]["port"]
                    checks.append((spec[probe]["httpGet"]["path"], ports.get(port, port)))
            containers.append(Container(f"k8s:{doc['metadata']['name']}", command, env, checks))
    return containers


def all_containers() -> list[Container]:
    image_env: dict[str, str | None] = {}
    for keyword, arguments in dockerfile():
        if keyword == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                image_env[name] = value
    image = Container("Dockerfile", default_command(), image_env)
    return [image, *compose_containers(), *k8s_containers()]


# --- what a command runs ----------------------------------------------------------------------


def module_of(command: list[str]) -> str | None:
    """``services.gateway`` for ``python -m services.gateway``."""
    if len(command) >= 3 and command[0].startswith("python") and command[1] == "-m":
        return command[2]
    return None


def process_of(command: list[str]) -> str | None:
    """The Enlace process a command serves (``python -m services.<name>``)."""
    module = module_of(command) or ""
    name = module.removeprefix("services.")
    return name if name in PROCESSES and module == f"services.{name}" else None


def migration_of(command: list[str]) -> str | None:
    """The Alembic environment of ``alembic --name <name> upgrade head``."""
    if command[:2] == ["alembic", "--name"] and command[3:] == ["upgrade", "head"]:
        return command[2]
    return None


def port_of(container: Container, process: str) -> int:
    """The port the process listens on: its *_PORT variable, else the settings default."""
    value = container.env.get(f"{process.upper()}_PORT")
    return int(value) if value else int(SETTINGS[process].model_fields["port"].default)


@cache
def routes(process: str) -> frozenset[str]:
    """The app's paths. This FastAPI keeps included routers' routes out of ``app.routes``
    (it lists them lazily), so the documented paths of the OpenAPI schema are added."""
    app: FastAPI = APPS[process]()
    paths = {route.path for route in app.routes if hasattr(route, "path")}
    return frozenset(paths | set(app.openapi()["paths"]))


# --- the checks (each returns what is wrong, so a test can also prove it fails) ----------------


def module_problems(containers: list[Container]) -> list[str]:
    return [
        f"{c.where}: no module {module_of(c.command)}"
        for c in containers
        if module_of(c.command) and importlib.util.find_spec(module_of(c.command) or "") is None
    ]


def alembic_problems(containers: list[Container]) -> list[str]:
    ini = configparser.ConfigParser()
    ini.read(ROOT / "alembic.ini")
    problems = []
    for c in containers:
        if c.command[:1] == ["alembic"] and migration_of(c.command) not in ini.sections():
            problems.append(f"{c.where}: {' '.join(c.command)} is not an alembic.ini section")
    return problems


def env_problems(containers: list[Container]) -> list[str]:
    problems = []
    for c in containers:
        for name in c.env:
            process = name.partition("_")[0].lower()
            if process not in SETTINGS:
                continue
            fields = {
                f"{process.upper()}_{field.upper()}" for field in SETTINGS[process].model_fields
            }
            if name not in fields:
                problems.append(f"{c.where}: {name} is not a field of {SETTINGS[process].__name__}")
    return problems


def health_problems(containers: list[Container]) -> list[str]:
    problems = []
    for c in containers:
        process = process_of(c.command)
        for path, port in c.checks:
            if process is None:
                problems.append(f"{c.where}: health check on a container that serves nothing")
                continue
            if path not in routes(process):
                problems.append(f"{c.where}: {process} has no route {path}")
            if port != port_of(c, process):
                problems.append(f"{c.where}: checks port {port}, {process} listens on another")
    return problems


# --- tests -------------------------------------------------------------------------------------


def test_the_files_cover_every_process_and_database() -> None:
    """Guards the other tests against passing on files they failed to read."""
    for containers in (compose_containers(), k8s_containers()):
        assert {process_of(c.command) for c in containers} >= set(PROCESSES)
        assert {migration_of(c.command) for c in containers} >= set(PROCESSES)
        for c in containers:
            if process_of(c.command):
                assert len(c.checks) >= 1, f"{c.where} has no health check"
    assert process_of(default_command()) == "gateway"


def test_every_python_module_is_importable() -> None:
    assert module_problems(all_containers()) == []


def test_every_alembic_name_is_a_section_of_alembic_ini() -> None:
    assert alembic_problems(all_containers()) == []


def test_every_variable_is_a_settings_field() -> None:
    assert env_problems(all_containers()) == []


def test_every_health_check_calls_an_existing_route_on_the_right_port() -> None:
    assert health_problems(all_containers()) == []
    # The image's own HEALTHCHECK serves whichever process runs: the route must exist in all.
    [healthcheck] = [args for keyword, args in dockerfile() if keyword == "HEALTHCHECK"]
    paths = re.findall(r"http://[^/'\"]+(/[\w./-]*)", healthcheck)
    assert paths
    for process in PROCESSES:
        assert set(paths) <= routes(process), process


def test_each_process_and_migration_sets_its_database_url() -> None:
    for c in compose_containers() + k8s_containers():
        name = process_of(c.command) or migration_of(c.command)
        if name:
            assert f"{name.upper()}_DATABASE_URL" in c.env, c.where


def test_the_checks_report_a_broken_container() -> None:
    broken = Container(
        "broken",
        ["python", "-m", "services.renamed"],
        {"INVENTORY_DATABSE_URL": "x"},
        [("/health/live", 8000)],
    )
    wrong_route = Container("wrong", ["python", "-m", "services.inventory"], {}, [("/ready", 8001)])
    wrong_port = Container("port", ["python", "-m", "services.gateway"], {}, [("/health", 8001)])
    assert module_problems([broken])
    assert alembic_problems([Container("m", ["alembic", "--name", "ledger", "upgrade", "head"])])
    assert env_problems([broken])
    assert health_problems([broken])
    assert health_problems([wrong_route])
    assert health_problems([wrong_port])


def test_dockerfile_copies_only_existing_files_that_reach_the_build_context() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copies = [args for keyword, args in dockerfile() if keyword == "COPY"]
    assert copies
    for args in copies:
        *sources, _destination = [word for word in args.split() if not word.startswith("--")]
        assert "--from" not in args
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file"
            assert not any(fnmatch(source.rstrip("/"), pattern) for pattern in ignored), source


def test_compose_processes_wait_for_their_migration() -> None:
    services = compose()["services"]
    by_name = {c.where.removeprefix("compose:"): c for c in compose_containers()}
    for name, container in by_name.items():
        process = process_of(container.command)
        if process is None:
            continue
        depends_on = services[name].get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        migrations = [
            other
            for other, condition in depends_on.items()
            if other in by_name
            and migration_of(by_name[other].command) == process
            and condition.get("condition") == "service_completed_successfully"
        ]
        assert migrations, f"{name} does not wait for its migration to complete"
        variable = f"{process.upper()}_DATABASE_URL"
        for migration in migrations:
            # The migration upgrades the very database the process then serves from.
            assert by_name[migration].env[variable] == container.env[variable]
            waits_for = services[migration]["depends_on"]
            assert waits_for["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]


def test_compose_wiring_points_at_real_services_and_databases() -> None:
    services = compose()["services"]
    containers = {c.where.removeprefix("compose:"): c for c in compose_containers()}
    serving = {process_of(c.command): name for name, c in containers.items()}
    gateway = containers[serving["gateway"]]
    for backend in ("inventory", "cooperation"):
        url = urlsplit(gateway.env[f"GATEWAY_{backend.upper()}_URL"] or "")
        assert url.hostname == serving[backend]
        assert url.port == port_of(containers[serving[backend]], backend)
    assert [name for name, service in services.items() if "ports" in service] == [
        serving["gateway"]
    ]
    created = set(
        re.findall(r"CREATE DATABASE (\w+)", (ROOT / "deploy/postgres-init.sql").read_text())
    )
    assert created == {f"enlace_{process}" for process in PROCESSES}
    for c in containers.values():
        for name, value in c.env.items():
            if name.endswith("_DATABASE_URL"):
                assert (value or "").rsplit("/", 1)[-1] in created, c.where


def test_compose_holds_no_password() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    passwords = re.findall(r"://[^:/@\s]+:(.+?)@", text)
    assert passwords
    assert all(p.startswith("${POSTGRES_PASSWORD:?") for p in passwords), passwords
    assert compose()["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )


def test_k8s_services_route_to_deployments_and_secrets_are_only_referenced() -> None:
    documents = k8s_documents()
    assert "Secret" not in {doc["kind"] for doc in documents}
    deployments = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Deployment"}
    services = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Service"}
    containers = {c.where.removeprefix("k8s:"): c for c in k8s_containers()}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]
        assert (
            deployment["spec"]["selector"]["matchLabels"].items()
            <= pod["metadata"]["labels"].items()
        )
        assert services[name]["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        process = process_of(containers[name].command)
        assert process, name
        [port] = services[name]["spec"]["ports"]
        assert port["port"] == port_of(containers[name], process)
    gateway = containers["gateway"]
    for backend in ("inventory", "cooperation"):
        url = urlsplit(gateway.env[f"GATEWAY_{backend.upper()}_URL"] or "")
        assert url.hostname in services
        assert url.port == port_of(containers[backend], backend)
    for c in containers.values():
        for name, value in c.env.items():
            if name.endswith("_DATABASE_URL"):
                assert value is None, f"{c.where}: {name} must come from a Secret"
    [spec] = deployments["gateway"]["spec"]["template"]["spec"]["containers"]
    mounts = {mount["mountPath"] for mount in spec["volumeMounts"]}
    assert gateway.env["GATEWAY_KEYS_DIR"] in mounts
    # The root filesystem is read-only: the audit spool needs a volume of its own.
    assert gateway.env["GATEWAY_AUDIT_SPOOL_DIR"] in mounts


def test_pre_commit_runs_what_manage_test_lints() -> None:
    import manage

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]  # nothing fetched
    hooks = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert {hook["language"] for hook in hooks} == {"system"}
    entries = [shlex.split(hook["entry"]) for hook in hooks]
    for args in manage.LINTS.values():
        # The same tool and options, on the files pre-commit passes instead of ".".
        wanted = [".venv/bin/python", "-m", *(a for a in args if a != ".")]
        assert any(entry[: len(wanted)] == wanted for entry in entries), (args, entries)


def test_locks_pin_every_package_with_hashes() -> None:
    for name in ("runtime.lock", "dev.lock"):
        text = (ROOT / "requirements" / name).read_text()
        pins = re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\$", text, flags=re.MULTILINE)
        assert pins, name
        blocks = re.split(r"^(?=[A-Za-z0-9_.-]+==)", text, flags=re.MULTILINE)[1:]
        assert len(blocks) == len(pins)
        assert all("--hash=sha256:" in block for block in blocks), name


def test_k8s_lets_only_the_gateway_reach_the_services() -> None:
    documents = k8s_documents()
    kustomization = next(doc for doc in documents if doc["kind"] == "Kustomization")
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in (ROOT / "deploy" / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk, "every manifest is applied by kubectl apply -k"
    deployments = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Deployment"}
    policies = [doc for doc in documents if doc["kind"] == "NetworkPolicy"]
    containers = {c.where.removeprefix("k8s:"): c for c in k8s_containers()}
    gateway_labels = deployments["gateway"]["spec"]["template"]["metadata"]["labels"]
    for backend in ("inventory", "cooperation"):
        labels = deployments[backend]["spec"]["template"]["metadata"]["labels"]
        [policy] = [
            p for p in policies if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
        ]
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        [rule] = policy["spec"]["ingress"]
        [source] = rule["from"]
        assert source["podSelector"]["matchLabels"].items() <= gateway_labels.items()
        assert set(source) == {"podSelector"}, "no namespace or IP block widens it"
        [port] = rule["ports"]
        assert port["port"] == port_of(containers[backend], backend)


def test_services_trust_only_the_gateway_which_names_its_public_url() -> None:
    """The services build public URLs from the gateway's forwarding headers, so they must
    trust the gateway's address (and nobody's else); the gateway must know its public URL."""
    services = compose()["services"]
    containers = {c.where.removeprefix("compose:"): c for c in compose_containers()}
    serving = {process_of(c.command): name for name, c in containers.items()}
    gateway = serving["gateway"]
    address = services[gateway]["networks"]["default"]["ipv4_address"]
    [pool] = compose()["networks"]["default"]["ipam"]["config"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(pool["subnet"])
    assert ipaddress.ip_address(address) not in ipaddress.ip_network(pool["ip_range"])
    for backend in ("inventory", "cooperation"):
        assert containers[serving[backend]].env[f"{backend.upper()}_TRUSTED_PROXIES"] == address
    assert containers[gateway].env["GATEWAY_PUBLIC_URL"]
    k8s = {c.where.removeprefix("k8s:"): c for c in k8s_containers()}
    for backend in ("inventory", "cooperation"):
        ipaddress.ip_network(k8s[backend].env[f"{backend.upper()}_TRUSTED_PROXIES"] or "")
    GatewaySettings(public_url=k8s["gateway"].env["GATEWAY_PUBLIC_URL"] or "")
