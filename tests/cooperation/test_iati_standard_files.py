"""The IATI Standard's own test material through the real import route: every should-pass
file of the 2.03 schema tests (and the annotated example) is accepted, every should-fail
file is refused with the line of the error, and nothing is ever a 5xx.

The one change made to a file is the reporting organisation's ref, set to the caller's:
an importer may only report for its own organisation (a business rule, tested apart). The
files are imported one after another into one database, in one test, so the whole set
costs one app start; every failure is collected and reported at once.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from services.cooperation.iati import parse_activities, schema_errors
from tests.cooperation.conftest import EPA_REF, PROGRAM, As
from tests.cooperation.test_imports import as_exported

pytestmark = pytest.mark.usefixtures("seeded")
DATA = Path(__file__).parent / "data" / "iati"
TESTS = DATA / "activity-tests"
EXAMPLE = DATA / "examples" / "activity-standard-example-annotated.xml"
SHOULD_PASS = sorted(p for p in (TESTS / "should-pass").rglob("*") if p.is_file())
SHOULD_FAIL = sorted(p for p in (TESTS / "should-fail").rglob("*") if p.is_file())
IMPORT = "/cooperation/v1/imports/iati"
EXPORT = "/cooperation/v1/iati/activities.xml"
XML = {"Content-Type": "application/xml"}
_REPORTING_REF = re.compile(rb'(<reporting-org\b[^>]*?\bref=)("[^"]*"|\'[^\']*\')')


def as_reported_by(xml: bytes, ref: str) -> bytes:
    """``xml`` with every reporting-org/@ref set to ``ref`` (nothing else changes)."""
    return _REPORTING_REF.sub(lambda m: m.group(1) + b'"' + ref.encode() + b'"', xml)


def activities(xml: bytes) -> dict[str, Any]:
    """The ``iati-activity`` elements of a document by identifier (the last of each)."""
    root = etree.fromstring(xml, etree.XMLParser(remove_comments=True, remove_pis=True))
    return {(a.findtext("iati-identifier") or "").strip(): a for a in root.iter("iati-activity")}


def canonical(element: Any, *, drop: tuple[str, ...] = ()) -> bytes:
    """C14N of ``element``, white space in text normalised (indentation dropped, runs of
    spaces as one, ends trimmed); ``drop`` names attributes of the element left out."""
    tidy = copy.deepcopy(element)
    for name in drop:
        tidy.attrib.pop(name, None)
    for node in tidy.iter():
        node.text = None if node.text is None else (re.sub(r"\s+", " ", node.text).strip() or None)
        node.tail = None
    return bytes(etree.tostring(tidy, method="c14n"))


def test_the_material_is_all_there() -> None:
    assert len(SHOULD_PASS) == 58
    assert len(SHOULD_FAIL) == 226
    assert (TESTS / "LICENSE").is_file()
    assert (EXAMPLE.parent / "LICENSE").is_file()


async def round_trip(gateway: httpx.AsyncClient, epa: dict[str, str], xml: bytes) -> list[str]:
    """What was imported exports again, still valid and the same (compared canonically),
    and imports back unchanged."""
    exported = await gateway.get(EXPORT, headers=epa, params={"program": PROGRAM})
    invalid = schema_errors(exported.content)
    if exported.status_code != 200 or invalid:
        return [f"export {exported.status_code} {invalid[:3]}"]
    identifiers = {a.identifier for a in parse_activities(xml)}
    back = activities(exported.content)
    different = [i for i, sent in activities(xml).items() if canonical(back[i]) != canonical(sent)]
    if different:
        return [f"exported differently: {different}"]
    again = as_exported(exported.content, identifiers)
    params = {"program": PROGRAM}  # as sent, an activity may name no parent
    response = await gateway.post(IMPORT, content=again, headers=epa | XML, params=params)
    if response.status_code != 200 or response.json()["unchanged"] != len(identifiers):
        return [f"export imported back: {response.status_code} {response.text[:300]}"]
    return []


async def test_every_should_pass_file_is_accepted_and_every_should_fail_refused_by_line(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    failures: list[str] = []
    for path in [*SHOULD_PASS, EXAMPLE, *SHOULD_FAIL]:
        name = str(path.relative_to(DATA))
        xml = as_reported_by(path.read_bytes(), EPA_REF)
        response = await gateway.post(
            IMPORT, content=xml, headers=epa | XML, params={"program": PROGRAM}
        )
        if response.status_code >= 500:
            failures.append(f"{name}: {response.status_code} {response.text[:300]}")
        elif path in SHOULD_FAIL:
            problem = response.json()
            lines = [e.get("line") for e in problem.get("errors", [])]
            if response.status_code != 422 or not any(isinstance(n, int) and n > 0 for n in lines):
                failures.append(f"{name}: {response.status_code}, lines {lines}")
        elif response.status_code != 200:
            failures.append(f"{name}: {response.status_code} {response.text[:600]}")
        elif sum(response.json()[k] for k in ("created", "updated", "unchanged")) < 1:
            failures.append(f"{name}: nothing imported: {response.text[:300]}")
        else:
            failures += [f"{name}: {f}" for f in await round_trip(gateway, epa, xml)]
    assert not failures, f"{len(failures)} file(s):\n" + "\n".join(failures)
