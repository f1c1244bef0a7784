"""The ``enlace`` command and client against a real running suite (three processes on
127.0.0.1, SQLite, demo data), as an integrator's script would use them."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from enlace.auth import TokenAuth, TokenCache, fresh
from enlace.cli import app
from enlace.client import EnlaceClient
from enlace.config import Credentials
from enlace.messages import MESSAGES
from tests.conftest import on_postgres
from tests.live import Suite, running_suite

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    if on_postgres():
        # The command talks HTTP only: the suite it drives runs once, on SQLite (the SQLite run).
        pytest.skip("the CLI's suite runs in the SQLite run")
    with running_suite(tmp_path_factory.mktemp("suite")) as running:
        yield running


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's own configuration folder, and no credentials in the environment."""
    folder = tmp_path / "config"
    monkeypatch.setenv("ENLACE_CONFIG_DIR", str(folder))
    for name in ("ENLACE_CLIENT_ID", "ENLACE_CLIENT_SECRET", "ENLACE_URL", "ENLACE_LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return folder


def enlace(*args: str, env: dict[str, str] | None = None) -> Any:
    result = RUNNER.invoke(app, list(args), env=env, catch_exceptions=False)
    return result


def login(suite: Suite, client_id: str) -> None:
    result = enlace(
        "--lang",
        "en",
        "login",
        "--url",
        suite.url,
        "--client-id",
        client_id,
        "--client-secret",
        suite.credentials[client_id],
    )
    assert result.exit_code == 0, result.output


def api(suite: Suite, client_id: str) -> EnlaceClient:
    credentials = Credentials(suite.url, client_id, suite.credentials[client_id], "test")
    return EnlaceClient(credentials, cache=TokenCache(None))


def test_login_keeps_credentials_private_and_refuses_a_wrong_secret(
    suite: Suite, home: Path
) -> None:
    wrong = enlace(
        "login", "--url", suite.url, "--client-id", "usaid-partner", "--client-secret", "nope"
    )
    assert wrong.exit_code == 2
    assert "refused" in wrong.output
    assert not (home / "credentials.json").exists()

    login(suite, "usaid-partner")
    for path in (home / "credentials.json", home / "tokens.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    saved = json.loads((home / "credentials.json").read_text())
    assert saved["client_id"] == "usaid-partner"

    who = enlace("--lang", "en", "whoami")
    assert who.exit_code == 0, who.output
    assert "usaid-partner" in who.output
    assert "cooperation:read" in who.output

    (home / "credentials.json").chmod(0o644)  # readable by others: refused, not used
    exposed = enlace("whoami")
    assert exposed.exit_code == 2
    assert "chmod 600" in exposed.output

    assert enlace("--lang", "en", "logout").output.startswith("Saved credentials")
    assert not (home / "credentials.json").exists()
    assert not (home / "tokens.json").exists()


def test_one_cached_token_serves_many_calls_past_the_token_rate_limit(
    suite: Suite, home: Path
) -> None:
    """The gateway allows 30 token requests a minute per client: 32 commands in a row all
    work on the one token ``login`` cached."""
    login(suite, "oefa-inspector")
    token = json.loads((home / "tokens.json").read_text())
    for _ in range(32):
        result = enlace("whoami")
        assert result.exit_code == 0, result.output
    assert json.loads((home / "tokens.json").read_text()) == token


def test_the_environment_gives_credentials_and_a_token_is_renewed_before_it_expires(
    suite: Suite, home: Path
) -> None:
    env = {
        "ENLACE_URL": suite.url,
        "ENLACE_CLIENT_ID": "usaid-partner",
        "ENLACE_CLIENT_SECRET": suite.credentials["usaid-partner"],
    }
    result = enlace("--lang", "en", "whoami", env=env)
    assert result.exit_code == 0, result.output
    assert "credentials: environment" in result.output
    assert not (home / "credentials.json").exists()

    now = 1_000_000.0
    assert fresh({"access_token": "t", "issued_at": now - 100, "expires_at": now + 200}, now)
    # Less than a fifth of its lifetime (at most 60 s) left: renewed.
    assert not fresh({"access_token": "t", "issued_at": now - 250, "expires_at": now + 50}, now)
    assert not fresh({"access_token": "t", "issued_at": now - 60, "expires_at": now + 10}, now)

    clock = [now]
    credentials = Credentials(suite.url, "usaid-partner", env["ENLACE_CLIENT_SECRET"], "test")
    auth = TokenAuth(credentials, TokenCache(None), clock=lambda: clock[0])
    with httpx.Client(base_url=suite.url, auth=auth) as http:
        assert http.get("/cooperation/v1/programs").status_code == 200
        assert http.get("/cooperation/v1/programs").status_code == 200
        assert auth.tokens_fetched == 1
        entry = auth.cache.get(auth.key)
        assert entry is not None
        clock[0] = float(entry["expires_at"]) - 30  # about to expire
        assert http.get("/cooperation/v1/programs").status_code == 200
        assert auth.tokens_fetched == 2


def _rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.usefixtures("home")
def test_pull_activities_resumes_and_applies_deletions(suite: Suite) -> None:
    login(suite, "oefa-inspector")
    first = enlace("--lang", "en", "pull", "activities", "--format", "csv")
    assert first.exit_code == 0, first.output
    rows = _rows(Path("enlace-data/activities.csv"))
    assert rows
    assert "identifier" in rows[0]
    held = {r["identifier"] for r in rows}

    again = enlace("--lang", "en", "pull", "activities", "--format", "csv")
    assert "0 new or changed, 0 deleted" in again.output

    with api(suite, "oefa-inspector") as client:
        ref = next(
            o["iati_ref"]
            for o in client.get("/cooperation/v1/organisations")["items"]
            if o["code"] == "OEFA"
        )
        identifier = f"{ref}-CLI-PULL-1"
        body = {
            "identifier": identifier,
            "program": "US-PE-ECWP-2015-2018",
            "title_en": "Pulled by a script",
            "description_en": "Created to be pulled, then deleted.",
            "status": 1,
            "planned_start": "2027-01-01",
            "planned_end": "2027-12-31",
            "default_currency": "USD",
            "participants": [{"org": "EPA", "role": 1}, {"org": "OEFA", "role": 4}],
            "priority_areas": ["A"],
            "sectors": [{"code": "41010", "percentage": "100"}],
        }
        client.request("POST", "/cooperation/v1/activities", json=body)
        pulled = enlace("--lang", "en", "pull", "activities", "-f", "xlsx")
        assert "1 new or changed, 0 deleted" in pulled.output, pulled.output
        sheet = load_workbook("enlace-data/activities.xlsx").active
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        identifiers = {r[header.index("identifier")] for r in sheet.iter_rows(2, values_only=True)}
        assert identifiers == held | {identifier}

        etag = client.request("GET", f"/cooperation/v1/activities/{identifier}").headers["etag"]
        client.request(
            "DELETE", f"/cooperation/v1/activities/{identifier}", headers={"If-Match": etag}
        )
    gone = enlace("--lang", "en", "pull", "activities", "--format", "csv")
    assert "1 deleted" in gone.output, gone.output
    assert {r["identifier"] for r in _rows(Path("enlace-data/activities.csv"))} == held


def _pcb_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _item(n: int, **changes: str) -> dict[str, str]:
    return {
        "holder_ruc": "20131368829",
        "holder_name": "Electro Demo S.A.",
        "holder_sector": "electricity_distribution",
        "holder_is_public": "no",
        "site_name": "SE CLI",
        "site_address": "Av. Demo 1",
        "site_ubigeo": "150101",
        "site_type": "urban",
        "equipment_type": "transformer",
        "manufacturer": "Siemens",
        "serial_number": f"CLI-{n}",
        "year_manufactured": "1979",
        "fluid_trade_name": "Askarel",
        "fluid_volume_l": "400",
        "status": "in_use",
        **changes,
    }


@pytest.mark.usefixtures("home")
def test_import_pcb_reports_rows_and_saves_the_errors(suite: Suite) -> None:
    login(suite, "minem-submitter")
    with api(suite, "minem-submitter") as client:
        submission = client.request(
            "POST", "/inventory/v1/submissions", json={"year": 2031, "section": "pcb"}
        ).json()
    good, bad = _item(1), _item(2, year_manufactured="nineteen", fluid_volume_l="-5")
    Path("items.csv").write_bytes(_pcb_csv([good, bad]))

    refused = enlace(
        "--lang",
        "en",
        "import",
        "pcb",
        "items.csv",
        "--submission",
        str(submission["id"]),
        "--errors",
        "errors.xlsx",
    )
    assert refused.exit_code == 1
    assert "2 rows: 0 imported, 1 rejected" in refused.output
    assert "nothing was imported" in refused.output
    sheet = load_workbook("errors.xlsx").active
    cells = list(sheet.iter_rows(values_only=True))
    header = list(cells[0])
    assert {(r[header.index("row")], r[header.index("column")]) for r in cells[1:]} >= {
        (3, "year_manufactured"),
        (3, "fluid_volume_l"),
    }

    dry = enlace(
        "--lang",
        "en",
        "import",
        "pcb",
        "items.csv",
        "--submission",
        str(submission["id"]),
        "--mode",
        "partial",
        "--dry-run",
    )
    assert dry.exit_code == 0, dry.output
    assert "2 rows: 1 imported, 1 rejected (dry run: nothing written)" in dry.output

    partial = enlace(
        "--lang",
        "en",
        "import",
        "pcb",
        "items.csv",
        "--submission",
        str(submission["id"]),
        "--mode",
        "partial",
        "--errors",
        "errors.csv",
    )
    assert partial.exit_code == 0, partial.output
    assert "2 rows: 1 imported, 1 rejected" in partial.output
    assert {r["row"] for r in _rows(Path("errors.csv"))} == {"3"}

    pulled = enlace("--lang", "en", "pull", "pcb-items")
    assert pulled.exit_code == 0, pulled.output
    # Submitters cannot read the inventory's change history: deletions are not applied.
    assert "Deletions not applied" in pulled.output
    serials = {
        json.loads(line)["serial_number"]
        for line in Path("enlace-data/pcb-items.jsonl").read_text().splitlines()
    }
    assert "CLI-1" in serials
    assert "CLI-2" not in serials


@pytest.mark.usefixtures("home")
def test_export_streams_the_iati_file(suite: Suite) -> None:
    login(suite, "usaid-partner")
    result = enlace("--lang", "en", "export", "iati", "--output", "activities.xml")
    assert result.exit_code == 0, result.output
    assert b"<iati-activities" in Path("activities.xml").read_bytes()[:500]
    refused = enlace("--lang", "en", "export", "pcb-items", "--output", "items.csv")
    assert refused.exit_code == 1  # no inventory scope
    assert "403" in refused.output
    assert not Path("items.csv").exists()


@pytest.mark.usefixtures("home")
def test_template_downloads_the_import_workbook_in_the_chosen_language(suite: Suite) -> None:
    login(suite, "minem-submitter")
    result = enlace("--lang", "es", "template", "pcb-items")
    assert result.exit_code == 0, result.output
    workbook = load_workbook(Path("enlace-pcb-items-es.xlsx"))
    assert workbook.sheetnames[:3] == ["equipos", "ejemplo", "columnas"]
    assert workbook["equipos"]["A1"].value == "RUC del poseedor"
    english = enlace("--lang", "en", "template", "pcb-items", "-o", "template.xlsx")
    assert english.exit_code == 0, english.output
    assert load_workbook(Path("template.xlsx"))["items"]["A1"].value == "Holder RUC"


@pytest.mark.usefixtures("home")
def test_subscriptions_are_added_listed_and_deleted(suite: Suite) -> None:
    login(suite, "usaid-partner")
    added = enlace(
        "subscriptions", "add", "http://127.0.0.1:9/hook", "--events", "activity.published"
    )
    assert added.exit_code == 0, added.output
    created = json.loads(added.output)
    assert created["secret"].startswith("whsec_")  # shown this once
    listed = enlace("subscriptions", "list")
    assert listed.exit_code == 0, listed.output
    assert f'"id": {created["id"]}' in listed.output
    assert "whsec_" not in listed.output
    log = enlace("subscriptions", "deliveries", str(created["id"]))
    assert log.exit_code == 0, log.output
    refused = enlace("subscriptions", "add", "http://10.0.0.1/hook", "--events", "activity.changed")
    assert refused.exit_code == 1
    assert "422" in refused.output
    gone = enlace("subscriptions", "delete", str(created["id"]))
    assert gone.exit_code == 0, gone.output
    assert f'"id": {created["id"]}' not in enlace("subscriptions", "list").output


@pytest.mark.usefixtures("home")
def test_unreachable_gateway_and_missing_credentials_are_clear() -> None:
    missing = enlace("--lang", "en", "pull", "activities")
    assert missing.exit_code == 2
    assert "enlace login" in missing.output
    env = {
        "ENLACE_URL": "http://127.0.0.1:9",
        "ENLACE_CLIENT_ID": "x",
        "ENLACE_CLIENT_SECRET": "y",
    }
    down = enlace("--lang", "es", "pull", "activities", env=env)
    assert down.exit_code == 3
    assert "No se pudo conectar" in down.output


def test_every_message_has_spanish_and_english() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == {"es", "en"}, key
        assert all(texts.values()), key
        fields = [sorted(f for f in _fields(t)) for t in texts.values()]
        assert fields[0] == fields[1], key


def _fields(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_installed_command_runs() -> None:
    command = Path(sys.executable).parent / "enlace"
    assert command.exists(), "manage.py installs the enlace command into the venv"
    shown = subprocess.run(
        [str(command), "--help"], capture_output=True, text=True, env=os.environ, check=False
    )
    assert shown.returncode == 0
    assert "pull" in shown.stdout


def test_the_cooperation_service_subscribes_and_receives_the_inventorys_validations(
    suite: Suite,
) -> None:
    """Issue 13 items 4-5 wired in the running suite: the cooperation service subscribed
    itself (through the gateway, its own client) to ``submission.validated``; a validation
    is delivered to it, signed, and accepted (its receiver answers 2xx)."""
    with httpx.Client(base_url=suite.url, timeout=10) as api:

        def token(client_id: str, scope: str) -> dict[str, str]:
            secret = suite.credentials[client_id]
            answer = api.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "scope": scope},
                auth=(client_id, secret),
            )
            assert answer.status_code == 200, answer.text
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        service = token("cooperation-service", "inventory:read subscriptions")
        deadline = time.monotonic() + 30
        subscriptions: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not subscriptions:
            subscriptions = api.get("/inventory/v1/subscriptions", headers=service).json()["items"]
            time.sleep(0.5)
        (subscription,) = subscriptions
        assert subscription["event_types"] == ["submission.validated"]
        assert subscription["url"].endswith("/v1/inventory-events")
        minem = token("minem-submitter", "inventory:read inventory:write")
        minam = token("minam-reviewer", "inventory:read inventory:review")
        draft = api.post(
            "/inventory/v1/submissions", json={"year": 2029, "section": "pcb"}, headers=minem
        )
        assert draft.status_code == 201, draft.text
        sid = draft.json()["id"]
        for who, move in ((minem, "submit"), (minam, "start-review"), (minam, "validate")):
            current = api.get(f"/inventory/v1/submissions/{sid}", headers=who)
            headers = who | {"If-Match": current.headers["etag"]}
            moved = api.post(f"/inventory/v1/submissions/{sid}/{move}", json={}, headers=headers)
            assert moved.status_code == 200, moved.text
        path = f"/inventory/v1/subscriptions/{subscription['id']}/deliveries"
        delivered: list[dict[str, Any]] = []
        while time.monotonic() < deadline + 30 and not delivered:
            items = api.get(path, headers=service).json()["items"]
            delivered = [d for d in items if d["status"] == "delivered"]
            time.sleep(0.5)
        assert delivered, items
