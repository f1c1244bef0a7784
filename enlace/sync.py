"""``enlace pull``: a local copy of a collection, kept up to date from where the last pull
stopped, with deletions applied.

Each collection is kept in a folder (``--dir``, default ``./enlace-data``) as
``<name>.jsonl`` (one record per line, the mirror) and ``<name>.state.json`` (where to
resume). A pull asks only for what changed since the saved position:

- activities: the list's ``resume_cursor`` (nothing is missed while others write), then the
  change feed from the saved ``next_after``: ``delete`` and ``withdrawn`` remove records;
- inventory collections: ``updated_since`` the newest ``updated_at`` already held (records
  changed at that instant come again and replace themselves), and for PCB items the
  inventory's change history (``action`` = ``delete``), which only reviewers may read:
  without ``inventory:review`` deletions cannot be seen, and the pull says so.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from enlace.client import ApiError, EnlaceClient
from enlace.config import atomic_write

Format = Literal["jsonl", "csv", "xlsx"]
PAGE = 1000


@dataclass(frozen=True)
class Collection:
    name: str
    path: str
    key: str
    kind: Literal["feed", "updated_since"]
    history_entity: str | None = None  # the inventory change history's entity, if any


COLLECTIONS = {
    c.name: c
    for c in (
        Collection("activities", "/cooperation/v1/activities", "identifier", "feed"),
        Collection("pcb-items", "/inventory/v1/pcb-items", "id", "updated_since", "pcb_item"),
        Collection("holders", "/inventory/v1/holders", "id", "updated_since"),
        Collection("sites", "/inventory/v1/sites", "id", "updated_since"),
    )
}


@dataclass
class PullResult:
    upserted: int = 0
    deleted: int = 0
    total: int = 0
    notes: list[str] = field(default_factory=list)
    output: Path | None = None


def _write_jsonl(records: list[dict[str, Any]]) -> Callable[[io.TextIOBase], None]:
    def write(handle: io.TextIOBase) -> None:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")

    return write


class Mirror:
    """The records of one collection held locally, by key."""

    def __init__(self, folder: Path, collection: Collection) -> None:
        self.collection = collection
        self.records_path = folder / f"{collection.name}.jsonl"
        self.state_path = folder / f"{collection.name}.state.json"
        self.records: dict[str, dict[str, Any]] = {}
        self.state: dict[str, Any] = {}
        if self.records_path.exists():
            with self.records_path.open(encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        record = json.loads(line)
                        self.records[str(record[collection.key])] = record
        if self.state_path.exists():
            self.state = json.loads(self.state_path.read_text(encoding="utf-8"))

    def upsert(self, record: dict[str, Any]) -> None:
        self.records[str(record[self.collection.key])] = record

    def delete(self, key: object) -> bool:
        return self.records.pop(str(key), None) is not None

    def save(self) -> None:
        """The records first, then the position: a crash in between repeats work, never
        skips it."""
        ordered = sorted(self.records.values(), key=lambda r: str(r[self.collection.key]))
        atomic_write(self.records_path, _write_jsonl(ordered))
        atomic_write(self.state_path, lambda h: json.dump(self.state, h, indent=2))


def pull(
    api: EnlaceClient,
    collection: Collection,
    folder: Path,
    *,
    since: str | None = None,
    full: bool = False,
) -> PullResult:
    """Bring the local copy of ``collection`` up to date; the counts of what changed."""
    mirror = Mirror(folder, collection)
    if full:
        mirror.records, mirror.state = {}, {}
    result = PullResult()
    if since and mirror.state.get("since") not in (None, since):
        result.notes.append(
            f"--since {since} differs from the saved pull's ({mirror.state['since']}); "
            "resuming from the saved position (use --full to start again)."
        )
    if "since" not in mirror.state:
        mirror.state["since"] = since
    if collection.kind == "feed":
        _pull_feed(api, collection, mirror, result)
    else:
        _pull_updated(api, collection, mirror, result)
    mirror.save()
    result.total = len(mirror.records)
    return result


def _pull_feed(api: EnlaceClient, c: Collection, mirror: Mirror, result: PullResult) -> None:
    cursor = mirror.state.get("resume_cursor")
    params: dict[str, Any] = {"limit": PAGE, "cursor": cursor}
    if cursor is None and mirror.state.get("since"):
        params["updated_since"] = mirror.state["since"]
    resume = cursor
    for page in api.pages(c.path, params):
        for record in page.get("items", []):
            mirror.upsert(record)
            result.upserted += 1
        resume = page.get("resume_cursor") or resume
    mirror.state["resume_cursor"] = resume
    feed = c.path.rsplit("/", 1)[0] + "/changes"
    after = int(mirror.state.get("after", 0))
    final: dict[str, str] = {}
    while True:
        page = api.get(feed, {"after": after, "limit": PAGE})
        for change in page.get("items", []):
            final[str(change["identifier"])] = change["kind"]
        if not page.get("items") or page["next_after"] == after:
            break
        after = int(page["next_after"])
    for identifier, kind in final.items():
        if kind in ("delete", "withdrawn") and mirror.delete(identifier):
            result.deleted += 1
    mirror.state["after"] = after


def _newest(records: Iterable[dict[str, Any]]) -> str | None:
    stamps = [str(r["updated_at"]) for r in records if r.get("updated_at")]
    return max(stamps) if stamps else None


def _pull_updated(api: EnlaceClient, c: Collection, mirror: Mirror, result: PullResult) -> None:
    since = mirror.state.get("watermark") or mirror.state.get("since")
    params: dict[str, Any] = {"limit": PAGE}
    if since:
        params["updated_since"] = since
    for record in api.items(c.path, params):
        mirror.upsert(record)
        result.upserted += 1
    mirror.state["watermark"] = _newest(mirror.records.values()) or since
    if c.history_entity is None:
        return
    history = c.path.rsplit("/", 1)[0] + "/changes"
    query: dict[str, Any] = {"entity": c.history_entity, "limit": PAGE}
    if mirror.state.get("history_since"):
        query["since"] = mirror.state["history_since"]
    newest = mirror.state.get("history_since")
    try:
        for change in api.items(history, query):
            newest = max(newest or change["at"], change["at"])
            if change["action"] == "delete" and mirror.delete(change["entity_id"]):
                result.deleted += 1
    except ApiError as exc:
        if exc.status != 403:
            raise
        result.notes.append(
            "Deletions not applied: the inventory's change history needs the "
            "inventory:review scope."
        )
        return
    mirror.state["history_since"] = newest


# Writing the copy out.


def _cell(value: Any) -> Any:
    """A value for a spreadsheet cell: nested values as JSON; text that a spreadsheet would
    run as a formula starts with a quote (OWASP CSV injection)."""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _columns(records: list[dict[str, Any]], key: str) -> list[str]:
    seen = {key: None}
    for record in records:
        seen.update(dict.fromkeys(record))
    return list(seen)


def write_copy(mirror_folder: Path, collection: Collection, fmt: Format, output: Path) -> Path:
    """The local copy of ``collection`` written to ``output`` as JSON Lines, CSV (UTF-8 with
    a BOM, for Excel) or XLSX."""
    mirror = Mirror(mirror_folder, collection)
    records = sorted(mirror.records.values(), key=lambda r: str(r[collection.key]))
    columns = _columns(records, collection.key)
    if fmt == "jsonl":
        atomic_write(output, _write_jsonl(records))
    elif fmt == "csv":

        def write_csv(handle: io.TextIOBase) -> None:
            handle.write("\ufeff")
            writer = csv.writer(handle)
            writer.writerow(columns)
            for record in records:
                writer.writerow([_cell(record.get(c)) for c in columns])

        atomic_write(output, write_csv)
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(collection.name[:31])
        sheet.append(columns)
        for record in records:
            sheet.append([_cell(record.get(c)) for c in columns])
        atomic_write(output, book.save, binary=True)
    return output
