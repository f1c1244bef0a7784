"""``enlace``: the command line of the Enlace gateway for integration scripts.

    enlace login --url http://127.0.0.1:8000 --client-id minem-submitter
    enlace pull activities --format csv
    enlace import pcb items.xlsx --submission 12 --dry-run --errors errores.xlsx
    enlace export iati --output activities.xml

Exit codes: 0 done, 1 the API refused (the problem is printed), 2 bad usage or
configuration, 3 the gateway could not be reached.
"""

from __future__ import annotations

import base64
import csv
import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn

from enlace.auth import AuthError, TokenAuth, TokenCache
from enlace.client import ApiError, EnlaceClient
from enlace.config import (
    DEFAULT_URL,
    ConfigError,
    Credentials,
    forget_credentials,
    load_credentials,
    save_credentials,
    token_cache_file,
)
from enlace.messages import language, say
from enlace.sync import COLLECTIONS, pull, write_copy

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Enlace from the command line: login, pull, import, export.",
)
import_app = typer.Typer(no_args_is_help=True, help="Import files into the inventory.")
app.add_typer(import_app, name="import")
subscriptions_app = typer.Typer(
    no_args_is_help=True, help="Event subscriptions (signed webhooks) of your client."
)
app.add_typer(subscriptions_app, name="subscriptions")
out = Console()
err = Console(stderr=True)


class State:
    lang = "es"
    url: str | None = None


STATE = State()


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    xlsx = "xlsx"


@app.callback()
def main_options(
    lang: Annotated[str | None, typer.Option(help="es or en (else ENLACE_LANG).")] = None,
    url: Annotated[str | None, typer.Option(help="The gateway (else ENLACE_URL).")] = None,
) -> None:
    STATE.lang = language(lang)
    STATE.url = url


def _client(transport: httpx.BaseTransport | None = None) -> EnlaceClient:
    try:
        credentials = load_credentials(STATE.url)
    except ConfigError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    return EnlaceClient(credentials, language=STATE.lang, transport=transport)


def _fail(exc: Exception, url: str) -> typer.Exit:
    """Print why a call failed; the exit to raise."""
    if isinstance(exc, ApiError):
        err.print(say("error.api", STATE.lang, status=exc.status, message=str(exc)))
        for error in exc.errors[:20]:
            err.print("  " + json.dumps(error, ensure_ascii=False))
        return typer.Exit(1)
    if isinstance(exc, AuthError | ConfigError):
        err.print(str(exc))
        return typer.Exit(2)
    err.print(say("error.connect", STATE.lang, url=url, reason=exc))
    return typer.Exit(3)


CALL_ERRORS = (ApiError, AuthError, ConfigError, httpx.TransportError)


@app.command()
def login(
    client_id: Annotated[str, typer.Option(prompt=True, help="Your client id.")],
    client_secret: Annotated[
        str, typer.Option(prompt=True, hide_input=True, envvar="ENLACE_CLIENT_SECRET")
    ],
    url: Annotated[str, typer.Option(envvar="ENLACE_URL", help="The gateway.")] = DEFAULT_URL,
) -> None:
    """Check the credentials with the gateway (one token, cached) and save them (0600)."""
    credentials = Credentials(url, client_id, client_secret, "login")
    auth = TokenAuth(credentials, TokenCache(token_cache_file()))
    try:
        with httpx.Client(timeout=30) as http:
            answer = http.send(auth.token_request())
        auth.keep(answer)
    except CALL_ERRORS as exc:
        raise _fail(exc, url) from None
    path = save_credentials(url, client_id, client_secret)
    out.print(say("login.ok", STATE.lang, client_id=client_id, url=url, path=path))


@app.command()
def logout() -> None:
    """Delete the saved credentials and cached tokens."""
    out.print(say("logout.ok" if forget_credentials() else "logout.none", STATE.lang))


def _claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified (shown to the user, never trusted)."""
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


@app.command()
def whoami() -> None:
    """Who the saved or environment credentials are, with the token's scopes."""
    with _client() as api:
        try:
            api.get("/health/live")  # sent with the token, fetched first if needed
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None
        entry = api.auth.cache.get(api.auth.key) or {}
        c = api.credentials
        expires = datetime.fromtimestamp(float(entry.get("expires_at", 0)), UTC).isoformat()
        out.print(
            say(
                "whoami",
                STATE.lang,
                client_id=c.client_id,
                url=c.base_url,
                source=c.source,
                expires=expires,
            )
        )
        if token := entry.get("access_token"):
            claims = _claims(str(token))
            out.print(f"org: {claims.get('org')}  scope: {claims.get('scope')}")


@app.command("pull")
def pull_command(
    collection: Annotated[str, typer.Argument(help="activities, pcb-items, holders or sites")],
    since: Annotated[
        str | None, typer.Option(help="On the first pull, only records changed since (ISO 8601)")
    ] = None,
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    folder: Annotated[Path, typer.Option("--dir", help="Where the copy is kept")] = Path(
        "enlace-data"
    ),
    full: Annotated[bool, typer.Option(help="Forget the saved position; pull everything")] = False,
) -> None:
    """Bring a local copy up to date from where the last pull stopped (deletions applied),
    and write it as JSON Lines, CSV or XLSX."""
    chosen = COLLECTIONS.get(collection)
    if chosen is None:
        err.print(say("pull.unknown", STATE.lang, name=collection, names=", ".join(COLLECTIONS)))
        raise typer.Exit(2)
    with _client() as api:
        try:
            result = pull(api, chosen, folder, since=since, full=full)
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None
    target = output or folder / f"{chosen.name}.{format.value}"
    if format is not OutputFormat.jsonl or output is not None:
        write_copy(folder, chosen, format.value, target)
    else:
        target = folder / f"{chosen.name}.jsonl"
    for note in result.notes:
        err.print(note)
    out.print(
        say(
            "pull.done",
            STATE.lang,
            name=chosen.name,
            upserted=result.upserted,
            deleted=result.deleted,
            total=result.total,
            output=target,
        )
    )


def _save_errors(errors: list[dict[str, Any]], path: Path) -> None:
    columns = ["row", "column", "code", "reason", "message"]
    present = [c for c in columns if any(c in e for e in errors)] or columns
    rows = [[e.get(c) for c in present] for e in errors]
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("errors")
        sheet.append(present)
        for row in rows:
            sheet.append(row)
        book.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(present)
        writer.writerows(rows)


@import_app.command("pcb")
def import_pcb(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    submission: Annotated[int, typer.Option(help="The draft PCB submission's id")],
    dry_run: Annotated[bool, typer.Option(help="Validate only; write nothing")] = False,
    mode: Annotated[str, typer.Option(help="all (nothing if a row fails) or partial")] = "all",
    errors: Annotated[
        Path | None, typer.Option(help="Save the row errors here (.csv or .xlsx)")
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Makes a retry safe")] = None,
) -> None:
    """Upload holders, sites, PCB items and analyses (CSV, XLSX, JSON) with a progress bar,
    and print the report (the row errors saved as CSV or XLSX with --errors)."""
    size = file.stat().st_size
    with _client() as api:
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            console=err,
            transient=True,
        )
        with progress:
            task = progress.add_task(
                say("import.uploading", STATE.lang, name=file.name), total=size
            )

            def advance(sent: int) -> None:
                progress.advance(task, sent)
                if progress.tasks[0].completed >= size:
                    progress.update(task, description=say("import.processing", STATE.lang))

            started = time.monotonic()
            try:
                report = api.import_pcb(
                    submission,
                    file,
                    mode=mode,
                    dry_run=dry_run,
                    idempotency_key=idempotency_key,
                    progress=advance,
                )
                failure: ApiError | None = None
            except ApiError as exc:
                if exc.status != 422 or "rows_total" not in exc.problem:
                    raise _fail(exc, api.credentials.base_url) from None
                report, failure = exc.problem, exc
            except CALL_ERRORS as exc:
                raise _fail(exc, api.credentials.base_url) from None
    elapsed = time.monotonic() - started
    dry = say("import.dry", STATE.lang) if report.get("dry_run") or dry_run else ""
    out.print(
        say(
            "import.report",
            STATE.lang,
            rows_total=report.get("rows_total", 0),
            rows_imported=0 if failure else report.get("rows_imported", 0),
            rows_rejected=report.get("rows_rejected", 0),
            dry=dry,
        )
        + f" ({elapsed:.1f} s)"
    )
    found = report.get("errors") or []
    if errors is not None and found:
        _save_errors(found, errors)
        out.print(say("import.errors_saved", STATE.lang, count=len(found), path=errors))
    if failure is not None:
        err.print(say("import.rejected", STATE.lang))
        raise typer.Exit(1)


EXPORTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "iati": ("/cooperation/v1/iati/activities.xml", "application/xml", {}),
    "iati-public": ("/cooperation/v1/public/iati/activities.xml", "application/xml", {}),
    "activities": ("/cooperation/v1/activities", "text/csv", {"format": "csv"}),
    "pcb-items": ("/inventory/v1/pcb-items", "text/csv", {"format": "csv"}),
    "sites": ("/inventory/v1/sites", "text/csv", {"format": "csv"}),
    "sites-geojson": ("/inventory/v1/sites", "application/geo+json", {"format": "geojson"}),
    "national-summary": ("/inventory/v1/reports/national-summary", "text/csv", {"format": "csv"}),
}


@app.command("export")
def export(
    what: Annotated[str, typer.Argument(help=", ".join(EXPORTS))],
    output: Annotated[Path, typer.Option("--output", "-o")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE filter, repeatable")
    ] = None,
) -> None:
    """Download an export (IATI XML, CSV, GeoJSON) as the API streams it."""
    if what not in EXPORTS:
        err.print(say("pull.unknown", STATE.lang, name=what, names=", ".join(EXPORTS)))
        raise typer.Exit(2)
    path, accept, fixed = EXPORTS[what]
    params: dict[str, str | int | bool | list[str] | None] = dict(fixed)
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep:
            err.print(f"--param {item}: NAME=VALUE")
            raise typer.Exit(2)
        params[name] = value
    with _client() as api:
        try:
            size = api.download(path, output, params=params, accept=accept)
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None
    out.print(say("export.done", STATE.lang, what=what, size=size, path=output))


TEMPLATES = {"pcb-items": "/inventory/v1/public/templates/pcb-items.xlsx"}


@app.command("template")
def template(
    what: Annotated[str, typer.Argument(help=", ".join(TEMPLATES))],
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    format: Annotated[str, typer.Option("--format", help="xlsx")] = "xlsx",
) -> None:
    """Download an import template: headers in --lang, drop-down lists, an example row."""
    if what not in TEMPLATES or format != "xlsx":
        err.print(say("pull.unknown", STATE.lang, name=what, names=", ".join(TEMPLATES)))
        raise typer.Exit(2)
    target = output or Path(f"enlace-{what}-{STATE.lang}.xlsx")
    with _client() as api:
        try:
            size = api.download(TEMPLATES[what], target, params={"lang": STATE.lang})
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None
    out.print(say("export.done", STATE.lang, what=what, size=size, path=target))


class Service(StrEnum):
    inventory = "inventory"
    cooperation = "cooperation"


ServiceOption = Annotated[Service, typer.Option("--service", "-s")]


def _subscriptions(service: Service) -> str:
    return f"/{service.value}/v1/subscriptions"


@subscriptions_app.command("list")
def subscriptions_list(service: ServiceOption = Service.cooperation) -> None:
    """Your client's subscriptions on a service, one JSON object per line."""
    with _client() as api:
        try:
            for item in api.items(_subscriptions(service)):
                out.print_json(data=item)
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None


@subscriptions_app.command("add")
def subscriptions_add(
    url: Annotated[str, typer.Argument(help="Your receiver's HTTPS URL")],
    events: Annotated[str, typer.Option("--events", "-e", help="event types, comma-separated")],
    service: ServiceOption = Service.cooperation,
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Subscribe a URL to event types; the signing secret is printed this once."""
    body: dict[str, Any] = {"url": url, "event_types": [e.strip() for e in events.split(",")]}
    if description:
        body["description"] = description
    with _client() as api:
        try:
            created = api.request("POST", _subscriptions(service), json=body).json()
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None
    out.print_json(data=created)


@subscriptions_app.command("delete")
def subscriptions_delete(
    subscription_id: Annotated[int, typer.Argument()], service: ServiceOption = Service.cooperation
) -> None:
    """Delete a subscription (and its delivery log)."""
    path = f"{_subscriptions(service)}/{subscription_id}"
    with _client() as api:
        try:
            tag = api.request("GET", path).headers.get("etag", "*")
            api.request("DELETE", path, headers={"If-Match": tag})
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None
    out.print(f"{subscription_id}: deleted")


@subscriptions_app.command("deliveries")
def subscriptions_deliveries(
    subscription_id: Annotated[int, typer.Argument()], service: ServiceOption = Service.cooperation
) -> None:
    """A subscription's delivery log, one JSON object per line."""
    with _client() as api:
        try:
            for item in api.items(f"{_subscriptions(service)}/{subscription_id}/deliveries"):
                out.print_json(data=item)
        except CALL_ERRORS as exc:
            raise _fail(exc, api.credentials.base_url) from None


def main() -> None:
    app()
