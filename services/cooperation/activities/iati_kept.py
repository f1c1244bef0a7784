"""An imported activity exported as its publisher sent it, with the edits made here.

The import keeps each ``iati-activity`` as received (``state["iati_xml"]``, see
``iati.kept``); the columns hold what the matrix, the filters and the API need. The export
merges the two: what the columns give now is compared with what they gave from the kept
XML, and only the elements that differ (edits through the API) are written from the
columns; everything else, modelled or not, is written as it came.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.cooperation.activities.iati_map import activity_iati
from services.cooperation.activities.iati_state import iati_state
from services.cooperation.activities.service import empty_state
from services.cooperation.activities.state import Refs, State
from services.cooperation.iati._xml_read import activity_from_element
from services.cooperation.iati.kept import (
    kept_element,
    kept_tags,
    merge_activity,
    read_kept,
    same_activity,
)
from services.cooperation.iati.xml import activity_element
from shared.db import utcnow

# The children of an iati-activity that the columns model (``iati.xml.activity_element``
# writes them); ``recipient-country`` is PE for activities entered here, an imported
# activity's are kept as sent.
MODELLED = {
    "iati-identifier",
    "reporting-org",
    "title",
    "description",
    "participating-org",
    "activity-status",
    "activity-date",
    "location",
    "sector",
    "tag",
    "policy-marker",
    "budget",
    "transaction",
    "document-link",
    "related-activity",
    "result",
}


def kept_fragment(
    fragment: State, current: State | None, org: str, refs: Refs
) -> tuple[State, str | None]:
    """An imported activity's fragment with the XML it keeps, and the report's note.

    No XML is kept when the columns alone export the same element (an export of ours
    imported back: they say it all); the stored XML stays when the new one is the same but
    for ``last-updated-datetime`` (nothing changed).
    """
    whole = (current or empty_state()) | fragment | {"reporting_org": org, "lead_org": org}
    generated = kept_element(activity_element(activity_iati(whole, refs, utcnow())))
    if same_activity(generated, fragment["iati_xml"]):
        return fragment | {"iati_xml": None}, None
    stored = current["iati_xml"] if current is not None else None
    if stored is not None and same_activity(stored, fragment["iati_xml"]):
        fragment = fragment | {"iati_xml": stored}
    return fragment, kept_note(fragment["iati_xml"])


def kept_note(kept: str) -> str | None:
    """The import report's note on what of an activity is kept as sent only."""
    tags = kept_tags(read_kept(kept), MODELLED)
    if not tags:
        return None
    return (
        f"kept as sent and exported as received (not modelled): {', '.join(tags)}; the "
        "attributes, narratives and children of modelled elements that the API does not "
        "edit are kept as sent too"
    )


def merged_element(state: State, refs: Refs, generated: Any, stamp: datetime) -> Any:
    """The ``iati-activity`` to export for an activity with kept XML: ``generated`` (the
    element its columns give) merged into the XML as sent."""
    original = read_kept(state["iati_xml"])
    program = refs.programs[state["program"]]
    fragment, _notes = iati_state(activity_from_element(original), refs, program)
    projected = activity_element(activity_iati(state | fragment, refs, stamp))
    return merge_activity(generated, projected, original)
