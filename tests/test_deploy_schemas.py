"""The deployment files are valid against their published schemas, offline.

The Kubernetes manifests are checked with ``kubernetes-validate`` (it ships the Kubernetes
OpenAPI schemas), strictly: an unknown field is an error, as ``kubectl apply`` would make it.
The compose file is checked against the Compose Specification's JSON schema, the copy that
``check-jsonschema`` vendors (with its licence). test_deploy.py checks that what these files
name exists in the code; this file checks that the files themselves are well formed.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"


def manifests() -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object of deploy/k8s (the Kustomization itself apart)."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") != "Kustomization":
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


@cache
def compose_schema() -> dict[str, Any]:
    vendored = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    schema: dict[str, Any] = json.loads((vendored / "compose-spec.json").read_text())
    return schema


def compose_errors(data: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    errors = validator.iter_errors(data)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


@pytest.mark.parametrize("doc", [d for _, d in manifests()], ids=[n for n, _ in manifests()])
def test_kubernetes_manifest_is_valid(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kubernetes_validation_catches_a_mistake() -> None:
    """The check can fail: a misspelt field in a Deployment is refused."""
    deployment = next(doc for _, doc in manifests() if doc["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose_errors(data) == []


def test_compose_validation_catches_a_mistake() -> None:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = next(iter(data["services"].values()))
    service["restart_policy"] = "always"  # not a service property (it is deploy.restart_policy)
    assert compose_errors(data)
