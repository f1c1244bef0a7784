"""Streamed readers for import files: CSV, XLSX, JSON (an array of objects) and JSON Lines.

Each yields ``(row_number, {column: value})`` one row at a time from a spooled upload, so
memory does not grow with the file. Row numbers are what a person sees: the spreadsheet row
(the header is row 1) for CSV and XLSX, the element (1-based) for JSON, the line for JSON
Lines. A file that cannot be read at all raises ``UnreadableFile``.
"""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import json
import threading
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

from services.inventory.imports.template import resolve_header
from shared.offload import Workers
from shared.spreadsheets import NotAWorkbook, XlsxLimits, check_xlsx

# A single JSON element larger than this is refused rather than buffered.
MAX_JSON_ELEMENT = 1 << 20
CHUNK = 64 << 10

Row = tuple[int, dict[str, Any]]
# Codecs that are text encodings to Python but no file's encoding: they refuse every input
# (undefined), or read domain names and escape sequences.
NOT_FILE_ENCODINGS = frozenset(
    {"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"}
)


@dataclass(frozen=True)
class ReadLimits:
    """How large a file's shape may be: columns of the header, what an XLSX unpacks to."""

    max_columns: int
    xlsx: XlsxLimits


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    JSONL = "jsonl"


CONTENT_TYPES = {
    "text/csv": FileFormat.CSV,
    "application/csv": FileFormat.CSV,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": FileFormat.XLSX,
    "application/json": FileFormat.JSON,
    "application/x-ndjson": FileFormat.JSONL,
    "application/jsonl": FileFormat.JSONL,
    "application/json-seq": FileFormat.JSONL,
}
EXTENSIONS = {
    ".csv": FileFormat.CSV,
    ".xlsx": FileFormat.XLSX,
    ".json": FileFormat.JSON,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
}


class UnreadableFile(ValueError):
    """The file as a whole cannot be read (wrong format, encoding, structure)."""

    def __init__(self, reason: str, row: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.row = row


def detect_format(content_type: str | None, filename: str | None) -> FileFormat | None:
    """The format a content type or a file name says, if any."""
    if content_type:
        found = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
        if found is not None:
            return found
    if filename:
        for extension, fmt in EXTENSIONS.items():
            if filename.lower().endswith(extension):
                return fmt
    return None


def text_encoding(name: str) -> str:
    """The codec's name when ``name`` is a text encoding a file can be in (``ValueError``
    otherwise: unknown, bytes-to-bytes like zlib or base64, str-to-str like rot13)."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None
    if not info._is_text_encoding or info.name in NOT_FILE_ENCODINGS:
        raise ValueError(f"{name!r} is not a text encoding")
    return info.name


def _header(names: list[Any], max_columns: int) -> list[str]:
    # A header of the template (Spanish or English) stands for its column's code.
    header = [resolve_header(str(n).strip()) if n is not None else "" for n in names]
    while header and header[-1] == "":
        header.pop()  # trailing empty cells of a spreadsheet
    if not header:
        raise UnreadableFile("the file has no header row", row=1)
    if len(header) > max_columns:
        raise UnreadableFile(f"the header has more than {max_columns} columns", row=1)
    if "" in header:
        raise UnreadableFile(f"column {header.index('') + 1} of the header is empty", row=1)
    duplicates = sorted(n for n, times in Counter(header).items() if times > 1)
    if duplicates:
        raise UnreadableFile(f"duplicate columns: {', '.join(duplicates)}", row=1)
    return header


def read_csv(file: IO[bytes], limits: ReadLimits, encoding: str = "utf-8") -> Iterator[Row]:
    """Rows of a CSV file (comma or semicolon separated, detected from the header)."""
    try:
        codec = text_encoding(encoding)
    except ValueError as exc:
        raise UnreadableFile(str(exc)) from None
    text = io.TextIOWrapper(file, encoding="utf-8-sig" if codec == "utf-8" else codec, newline="")
    row_number = 1
    try:
        first = text.readline()
        if not first:
            raise UnreadableFile("the file is empty", row=1)
        delimiter = ";" if first.count(";") > first.count(",") else ","
        header = _header(next(csv.reader([first], delimiter=delimiter)), limits.max_columns)
        reader = csv.reader(text, delimiter=delimiter)
        for values in reader:
            row_number = reader.line_num + 1
            if not any(v.strip() for v in values):
                continue  # blank lines
            if len(values) > len(header):
                extra = values[len(header) :]
                if any(v.strip() for v in extra):
                    yield row_number, {"__extra__": len(values)}
                    continue
            yield row_number, dict(zip(header, values, strict=False))
    except UnicodeError:
        raise UnreadableFile(
            f"the file is not valid {encoding} (give the encoding, e.g. ?encoding=cp1252)",
            row=row_number + 1,
        ) from None
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable CSV: {exc}", row=row_number + 1) from None
    finally:
        text.detach()


def read_xlsx(file: IO[bytes], limits: ReadLimits) -> Iterator[Row]:
    """Rows of the first sheet of an XLSX workbook (read-only, streamed), once the shared
    guard has found it no bomb (a 413 problem otherwise)."""
    sent = file.seek(0, io.SEEK_END)
    file.seek(0)
    try:
        check_xlsx(file, limits.xlsx, sent=sent)
    except NotAWorkbook:
        raise UnreadableFile("not an XLSX file") from None
    from openpyxl import load_workbook  # imported here: a slow import used only for XLSX

    try:
        workbook = load_workbook(file, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for malformed workbooks
        raise UnreadableFile("not a readable XLSX workbook") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = _header(list(next(rows, ())), limits.max_columns)
        for number, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            cells = list(values)
            if len(cells) > len(header) and any(v is not None for v in cells[len(header) :]):
                yield number, {"__extra__": len(cells)}
                continue
            yield number, dict(zip(header, cells, strict=False))
    except UnreadableFile:
        raise
    except Exception:
        raise UnreadableFile("not a readable XLSX workbook") from None
    finally:
        workbook.close()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


def _element(value: Any, number: int) -> Row:
    if not isinstance(value, dict):
        return number, {"__not_object__": type(value).__name__}
    return number, value


def read_json_lines(file: IO[bytes]) -> Iterator[Row]:
    """Rows of a JSON Lines file: one object per line."""
    for number, raw in enumerate(file, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            value = _DECODER.decode(line.decode("utf-8"))
        except UnicodeDecodeError:
            raise UnreadableFile("the file is not valid UTF-8", row=number) from None
        except (ValueError, RecursionError) as exc:
            yield number, {"__invalid_json__": str(exc)[:200]}
            continue
        yield _element(value, number)


class _JsonArrayCursor:
    """A position in a JSON array read from a UTF-8 file through a sliding buffer: only the
    part not yet decoded is kept, plus the chunk being read."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.position = 0
        self.number = 0  # elements decoded so far
        self.eof = False

    def more(self) -> bool:
        """Append the next chunk to the buffer (dropping what was consumed); False at the end."""
        if self.eof:
            return False
        chunk = self.file.read(CHUNK)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise UnreadableFile("the file is not valid UTF-8", row=self.number + 1) from None
        self.buffer = self.buffer[self.position :] + text
        self.position = 0
        self.eof = not chunk
        return True

    def skip_space(self) -> bool:
        """Move past whitespace; True when a character follows, False at the end of the file."""
        while True:
            while self.position < len(self.buffer) and self.buffer[self.position] in " \t\r\n":
                self.position += 1
            if self.position < len(self.buffer):
                return True
            if not self.more():
                return False

    def current(self) -> str:
        return self.buffer[self.position]

    def not_closed(self) -> UnreadableFile:
        return UnreadableFile("the JSON array is not closed", row=self.number + 1)

    def next_element(self) -> bool:
        """Move to the start of the next element (past its comma); False past the closing
        bracket."""
        if not self.skip_space():
            raise self.not_closed()
        if self.current() == "]":
            self.position += 1
            return False
        if self.number and self.current() == ",":
            self.position += 1
            if not self.skip_space():
                raise self.not_closed()
        elif self.number:
            raise UnreadableFile("elements must be separated by commas", row=self.number + 1)
        return True

    def decode(self) -> Any:
        """The element at the position, reading more of the file until it is whole."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.position)
            except RecursionError:
                raise UnreadableFile("JSON nested too deeply", row=self.number + 1) from None
            except ValueError as exc:
                if len(self.buffer) - self.position > MAX_JSON_ELEMENT:
                    raise UnreadableFile(
                        "a JSON element is larger than 1 MB", row=self.number + 1
                    ) from None
                if not self.more():
                    raise UnreadableFile(
                        f"invalid JSON: {exc.args[0][:120]}", row=self.number + 1
                    ) from None
            else:
                self.number += 1
                self.position = end
                return value


def read_json_array(file: IO[bytes]) -> Iterator[Row]:
    """Elements of a JSON array of objects, decoded one at a time from a sliding buffer."""
    cursor = _JsonArrayCursor(file)
    if not cursor.skip_space() or cursor.current() != "[":
        raise UnreadableFile("a JSON import is an array of objects (or use JSON Lines)")
    cursor.position += 1
    while cursor.next_element():
        value = cursor.decode()
        yield _element(value, cursor.number)
    if cursor.skip_space():
        raise UnreadableFile("unexpected content after the JSON array", row=cursor.number + 1)


def read_rows(
    file: IO[bytes], fmt: FileFormat, limits: ReadLimits, *, encoding: str = "utf-8"
) -> Iterator[Row]:
    """The rows of an upload in ``fmt``."""
    if fmt == FileFormat.CSV:
        return read_csv(file, limits, encoding)
    if fmt == FileFormat.XLSX:
        return read_xlsx(file, limits)
    if fmt == FileFormat.JSON:
        return read_json_array(file)
    return read_json_lines(file)


_DONE = object()


def _produce(
    rows: Iterator[Row],
    parse: Callable[[int, dict[str, Any]], Any],
    batch: int,
    put: Callable[[Any], None],
    stop: threading.Event,
) -> None:
    """The worker's side of ``parsed_batches``: parsed rows handed to ``put`` ``batch`` at a
    time, then ``_DONE``; an exception is handed over instead, for the consumer to raise.
    Returns early, handing nothing more, once ``stop`` is set."""
    try:
        chunk: list[Any] = []
        for number, raw in rows:
            if stop.is_set():
                return
            chunk.append(parse(number, raw))
            if len(chunk) >= batch:
                put(chunk)
                chunk = []
        if chunk:
            put(chunk)
        put(_DONE)
    except BaseException as exc:  # handed to the consumer, raised there
        if not stop.is_set():
            put(exc)


async def parsed_batches(
    file: IO[bytes],
    fmt: FileFormat,
    parse: Callable[[int, dict[str, Any]], Any],
    limits: ReadLimits,
    workers: Workers,
    *,
    encoding: str = "utf-8",
    batch: int = 1000,
    ahead: int = 4,
) -> AsyncGenerator[list[Any], None]:
    """Rows read and parsed by a worker thread (one of ``workers``, held until it is done;
    a 503 problem when none is free), ``batch`` at a time, at most ``ahead`` batches in
    advance: parsing the next rows overlaps with writing the previous ones (the event loop
    waits on the database meanwhile), and memory stays bounded. Close it (``aclosing``)
    when leaving early."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: Any) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

    rows = read_rows(file, fmt, limits, encoding=encoding)  # a generator: read in the worker
    async with workers.slot():
        worker = workers.spawn(_produce, rows, parse, batch, put, stop)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while not worker.done():
                # Unblock a producer waiting for room, then let it see ``stop``.
                while not queue.empty():
                    queue.get_nowait()
                await asyncio.sleep(0.01)
