"""One guard for every XLSX upload, run before a workbook is parsed: it refuses archives
that unpack to far more than was sent (a zip bomb), shared-string tables and sheets too
large to read in reasonable time and memory.

An XLSX is a zip of XML parts. The guard reads only the zip's directory for the sizes
(zipfile never inflates a member past its declared size, so they bound what openpyxl reads),
then streams every member once, counting shared strings (``<si>``) and cells (``<c>``)
without building any tree. Any member counts, whatever its name: openpyxl finds the parts
through the package's manifest, so an attacker could name them anything.

Every refusal is a 413 ``xlsx-too-large`` problem: the upload is too large once unpacked,
whatever the size it was sent at.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import IO

from shared.problems import Problem

# Members smaller than this once unpacked are not held to the ratio: tiny parts of a
# genuine workbook (styles, the manifest) can compress well, and cannot hurt.
RATIO_FLOOR = 1 << 20
CHUNK = 1 << 20
# An element start, with an optional namespace prefix: <si>, <x:si ...>, <c r="A1"/>.
_SHARED_STRING = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
# The longest tag start counted across a chunk boundary (a longer prefix is not XLSX).
_OVERLAP = 128


class NotAWorkbook(ValueError):
    """The upload is not a zip archive at all."""


@dataclass(frozen=True)
class XlsxLimits:
    """What one workbook may unpack to."""

    max_expanded: int  # bytes, all members together
    max_ratio: int  # unpacked size over compressed size, per member and overall
    max_cells: int  # cells in all sheets
    max_shared_strings: int  # entries of the shared-string table


def _too_large(detail: str) -> Problem:
    return Problem(413, "xlsx-too-large", f"The workbook is refused: {detail}.")


def _count(stream: IO[bytes]) -> tuple[int, int]:
    """Shared strings and cells in one member, read a chunk at a time. A tag start that
    straddles two chunks is counted once: each chunk is searched with the end of the
    previous one, and a match is counted by the chunk where it ends."""
    strings = cells = 0
    tail = b""
    while chunk := stream.read(CHUNK):
        window = tail + chunk
        strings += sum(1 for m in _SHARED_STRING.finditer(window) if m.end() > len(tail))
        cells += sum(1 for m in _CELL.finditer(window) if m.end() > len(tail))
        tail = window[-_OVERLAP:]
    return strings, cells


def check_xlsx(file: IO[bytes], limits: XlsxLimits, *, sent: int) -> None:
    """Refuse (``Problem`` 413) a workbook beyond ``limits``; ``NotAWorkbook`` when it is
    not a zip. ``sent`` is the upload's size; ``file`` is left at its start."""
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
            _check_sizes(members, limits, sent)
            strings = cells = 0
            for info in members:
                with archive.open(info) as stream:
                    found_strings, found_cells = _count(stream)
                strings, cells = strings + found_strings, cells + found_cells
                if strings > limits.max_shared_strings:
                    raise _too_large(f"more than {limits.max_shared_strings} shared strings")
                if cells > limits.max_cells:
                    raise _too_large(f"more than {limits.max_cells} cells")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError):
        raise NotAWorkbook("not an XLSX file") from None
    finally:
        file.seek(0)


def _check_sizes(members: list[zipfile.ZipInfo], limits: XlsxLimits, sent: int) -> None:
    expanded = sum(i.file_size for i in members)
    if expanded > limits.max_expanded:
        raise _too_large(f"it unpacks to more than {limits.max_expanded} bytes")
    ratio = limits.max_ratio
    if expanded > RATIO_FLOOR and expanded > ratio * max(sent, 1):
        raise _too_large(f"it unpacks to more than {ratio} times its size")
    for info in members:
        if info.file_size > RATIO_FLOOR and info.file_size > ratio * max(info.compress_size, 1):
            raise _too_large(f"{info.filename[:80]!r} unpacks to more than {ratio} times its size")
