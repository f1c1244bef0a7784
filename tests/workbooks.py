"""Small workbooks for the XLSX guard's tests: genuine ones from openpyxl, and bomb-like
ones made from them (a member of highly compressible content)."""

from __future__ import annotations

import io
import random
import zipfile
from typing import Any

from openpyxl import Workbook


def workbook(rows: list[list[Any]]) -> bytes:
    """``rows`` as the first sheet of an XLSX (strings go to the shared-string table)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_member(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook ``data`` with one more member, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        target.writestr(name, content, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def ratio_bomb(header: list[str], *, masked: bool = False) -> bytes:
    """A genuine workbook with a 20 MB member that deflates to about 20 KB (1000:1);
    ``masked`` adds 1 MB that does not compress, so that the workbook as a whole stays
    near 20:1 and only the member's own ratio gives the bomb away."""
    data = with_member(workbook([header]), "xl/padding.xml", b" " * (20 << 20))
    if masked:
        noise = random.Random(9).randbytes(1 << 20)
        data = with_member(data, "docProps/thumbnail.jpeg", noise)
    return data


def with_shared_strings(data: bytes, count: int) -> bytes:
    """The workbook ``data`` with a shared-string table of ``count`` entries."""
    table = b"<sst>" + b"<si><t>x</t></si>" * count + b"</sst>"
    return with_member(data, "xl/sharedStrings.xml", table)
