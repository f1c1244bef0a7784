"""The audit log's local spool: where entries go, durably, while the database cannot take them.

One append-only JSON-lines file per process and outage (a *segment*), named
``<session>-<first n>.jsonl`` in ``GATEWAY_AUDIT_SPOOL_DIR``. Its first line names the
process (its audit session); then one line per entry, numbered ``n`` within the session;
a clean stop while the database is down appends a stop line. A group of lines is fsync'ed
before any request it records is answered; a line torn by a crash belongs to a request that
was never answered, and is skipped. The writing process holds an exclusive ``flock`` on its
segment, so another process drains only segments whose writer is gone (crashed or stopped).

All functions here block (file I/O, fsync): the audit log calls them in a worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from services.gateway.audit_chain import AuditRecord, SessionInfo

logger = logging.getLogger("enlace.audit")
SUFFIX = ".jsonl"


@dataclass(frozen=True)
class SpoolEntry:
    """One spooled entry. ``ambiguous``: its database write failed at a point where the
    commit may still have happened, so a drain first looks whether it is in the chain."""

    n: int
    record: AuditRecord
    ambiguous: bool = False


@dataclass
class SpoolContents:
    """What a segment holds from some offset on: ``offset`` is where the complete lines end."""

    session: SessionInfo | None = None
    entries: list[SpoolEntry] = field(default_factory=list)
    stopped_at: datetime | None = None
    offset: int = 0


def _record_json(rec: AuditRecord) -> dict[str, Any]:
    values = asdict(rec)
    values["at"] = rec.at.isoformat()
    return values


def entry_line(n: int, rec: AuditRecord, *, ambiguous: bool) -> str:
    """The spool line of entry ``n`` of a session."""
    line: dict[str, Any] = {"n": n, "record": _record_json(rec)}
    if ambiguous:
        line["ambiguous"] = True
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"


def stop_line(at: datetime) -> str:
    """The line saying the session stopped cleanly at ``at``."""
    return json.dumps({"stopped_at": at.isoformat()}) + "\n"


def _session_line(info: SessionInfo) -> str:
    values = asdict(info)
    values["started_at"] = info.started_at.isoformat()
    return json.dumps({"session": values}, separators=(",", ":")) + "\n"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SpoolWriter:
    """This process's open segment, locked while it is open."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def create(cls, directory: Path, info: SessionInfo, first_n: int) -> SpoolWriter:
        """A new segment, locked and named only once its first line is on disk: a drainer
        never sees it unlocked, nor half-made."""
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{info.id}-{first_n:012d}"
        tmp = directory / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, _session_line(info).encode())
            os.fsync(fd)
            path = directory / (name + SUFFIX)
            os.rename(tmp, path)
            _fsync_dir(directory)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return cls(path, fd)

    def append(self, lines: list[str]) -> None:
        """Write ``lines`` and wait until they are on disk. On failure (a full disk) the
        file is cut back to where it was, so that no torn line runs into the next one."""
        end = os.lseek(self._fd, 0, os.SEEK_END)
        view = memoryview("".join(lines).encode())
        try:
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, end)
            raise

    def close(self, *, unlink: bool) -> None:
        """Release the segment; ``unlink`` once everything in it is in the chain."""
        if unlink:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)


def _parse(line: bytes, contents: SpoolContents) -> None:
    value = json.loads(line)
    if "record" in value:
        fields = dict(value["record"])
        fields["at"] = datetime.fromisoformat(fields["at"])
        contents.entries.append(
            SpoolEntry(value["n"], AuditRecord(**fields), bool(value.get("ambiguous")))
        )
    elif "session" in value:
        info = dict(value["session"])
        info["started_at"] = datetime.fromisoformat(info["started_at"])
        contents.session = SessionInfo(**info)
    elif "stopped_at" in value:
        contents.stopped_at = datetime.fromisoformat(value["stopped_at"])


def read_segment(path: Path, offset: int = 0) -> SpoolContents:
    """The complete lines of a segment from byte ``offset`` on (an unfinished last line, torn
    by a crash or still being written, is left for later)."""
    with path.open("rb") as file:
        file.seek(offset)
        data = file.read()
    contents = SpoolContents(offset=offset)
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            _parse(line, contents)
        except (ValueError, KeyError, TypeError):
            # Only a write that failed (its requests were answered 503) leaves such a line.
            logger.error("audit spool %s: unreadable line skipped", path.name)
    contents.offset = offset + end
    return contents


def segments(directory: Path | None) -> list[Path]:
    """Every segment in ``directory``, oldest session first within a session's segments."""
    if directory is None or not directory.is_dir():
        return []
    return sorted(directory.glob("*" + SUFFIX))


def lock_segment(path: Path) -> int | None:
    """An open, locked descriptor of ``path``, or None while its writer still holds it (or
    when it is gone)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def waiting(directory: Path | None) -> int:
    """Entries in the segments of ``directory`` (an upper bound of those not yet drained:
    a drain in progress may have written some already)."""
    total = 0
    for path in segments(directory):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        # Entry lines, counted without parsing them (a long outage spools many).
        total += data.count(b'\n{"n":') + data.startswith(b'{"n":')
    return total
