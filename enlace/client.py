"""A typed httpx client of the Enlace gateway, for integration scripts.

    from enlace import EnlaceClient, load_credentials

    with EnlaceClient(load_credentials()) as api:
        for activity in api.items("/cooperation/v1/activities", {"status": "2"}):
            print(activity["identifier"])

Tokens are fetched, cached and renewed by ``TokenAuth``; errors are raised as ``ApiError``
with the RFC 9457 problem the API sent; 429 and 503 answers to reads are retried after
their ``Retry-After`` (a few times, at most 30 s each).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from enlace.auth import TokenAuth, TokenCache
from enlace.config import Credentials, token_cache_file

__version__ = "0.1.0"

Params = Mapping[str, str | int | bool | list[str] | None]
RETRIED = frozenset({429, 503})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
CHUNK = 64 * 1024


class ApiError(Exception):
    """An error answer: its status and the problem document (RFC 9457) when there was one."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        self.problem: dict[str, Any] = body if isinstance(body, dict) else {}
        self.title = str(self.problem.get("title") or response.reason_phrase)
        self.detail = str(self.problem.get("detail") or "")
        errors = self.problem.get("errors")
        self.errors: list[dict[str, Any]] = errors if isinstance(errors, list) else []
        super().__init__(
            f"{self.status} {self.title}" + (f": {self.detail}" if self.detail else "")
        )


def _query(params: Params | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query pairs; None values left out, booleans as true/false, lists repeated."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for name, value in (params or {}).items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            text = str(item).lower() if isinstance(item, bool) else str(item)
            pairs.append((name, text))
    return pairs


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(30.0, max(0.0, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


class EnlaceClient:
    """One keep-alive connection to the gateway, authenticated as one client."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        cache: TokenCache | None = None,
        language: str | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.credentials = credentials
        self.auth = TokenAuth(credentials, cache or TokenCache(token_cache_file()))
        headers = {"User-Agent": f"enlace-client/{__version__}"}
        if language := language or os.environ.get("ENLACE_LANG"):
            headers["Accept-Language"] = language
        self.retries = retries
        self.http = httpx.Client(
            base_url=credentials.base_url,
            auth=self.auth,
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def __enter__(self) -> EnlaceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The answer to one request; an ``ApiError`` for a 4xx or 5xx answer."""
        attempt = 0
        while True:
            response = self.http.request(method, path, params=_query(params), **kwargs)
            if (
                response.status_code in RETRIED
                and method.upper() in IDEMPOTENT
                and attempt < self.retries
            ):
                attempt += 1
                time.sleep(_retry_after(response))
                continue
            if response.is_error:
                raise ApiError(response)
            return response

    def get(self, path: str, params: Params | None = None) -> Any:
        """The JSON of a GET."""
        return self.request("GET", path, params=params).json()

    def pages(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a cursor-paginated list, following ``next_cursor``."""
        query = dict(params or {})
        while True:
            page = self.get(path, query)
            yield page
            cursor = page.get("next_cursor")
            if not cursor:
                return
            query["cursor"] = cursor

    def items(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated list."""
        for page in self.pages(path, params):
            yield from page.get("items", [])

    def upload(
        self,
        path: str,
        file: Path,
        *,
        content_type: str,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Any:
        """POST ``file`` as the raw body (streamed, ``progress`` told each chunk's size); the
        answer's JSON. Uploads are never retried: an import is not idempotent unless an
        ``Idempotency-Key`` header is given."""

        def chunks() -> Iterator[bytes]:
            with file.open("rb") as handle:
                while block := handle.read(CHUNK):
                    if progress:
                        progress(len(block))
                    yield block

        sent = {
            "Content-Type": content_type,
            "Content-Length": str(file.stat().st_size),
            **(headers or {}),
        }
        return self.request("POST", path, params=params, content=chunks(), headers=sent).json()

    def download(
        self,
        path: str,
        dest: Path,
        *,
        params: Params | None = None,
        accept: str | None = None,
    ) -> int:
        """Stream a GET's body into ``dest`` (replaced only once complete); its size."""
        headers = {"Accept": accept} if accept else {}
        partial = dest.with_name(f".{dest.name}.partial")
        attempt = 0
        while True:
            with self.http.stream("GET", path, params=_query(params), headers=headers) as answer:
                if answer.status_code in RETRIED and attempt < self.retries:
                    attempt += 1
                    time.sleep(_retry_after(answer))
                    continue
                if answer.is_error:
                    answer.read()
                    raise ApiError(answer)
                size = 0
                with partial.open("wb") as out:
                    for block in answer.iter_bytes(CHUNK):
                        out.write(block)
                        size += len(block)
            partial.replace(dest)
            return size

    # Typed shortcuts for what scripts use most.

    def activities(
        self, **filters: str | int | bool | list[str] | None
    ) -> Iterator[dict[str, Any]]:
        """Cooperation activities the client may see, with the donor-pull filters."""
        return self.items("/cooperation/v1/activities", {"limit": 1000, **filters})

    def activity(self, identifier: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/cooperation/v1/activities/{identifier}")
        return result

    def pcb_items(self, **filters: str | int | bool | list[str] | None) -> Iterator[dict[str, Any]]:
        """Inventory PCB items the client may see, with their class and flags."""
        return self.items("/inventory/v1/pcb-items", {"limit": 1000, **filters})

    def import_pcb(
        self,
        submission_id: int,
        file: Path,
        *,
        mode: str = "all",
        dry_run: bool = False,
        idempotency_key: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Import a CSV/XLSX/JSON file into a PCB submission; the import report."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        params: dict[str, str | bool | None] = {"mode": mode, "dry_run": True if dry_run else None}
        result: dict[str, Any] = self.upload(
            f"/inventory/v1/submissions/{submission_id}/imports",
            file,
            content_type=media_type(file),
            params=params,
            headers=headers,
            progress=progress,
        )
        return result


MEDIA_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".xml": "application/xml",
}


def media_type(file: Path) -> str:
    """The Content-Type of an upload, by its file name."""
    return MEDIA_TYPES.get(file.suffix.lower(), "application/octet-stream")
