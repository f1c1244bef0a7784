"""IATI activities (read from an import) in state form, held as the file has them.

An IATI file is the publisher's record: whatever its 2.03 schema allows is kept as sent
(codes outside the codelists, any text length, decimals of any scale, locations anywhere,
unknown organisations in any number), so nothing schema-valid is refused here. What Enlace
keeps no field for (tags other than its own, recipient countries and regions, most
optional elements) is kept in the activity's XML as sent (``iati_kept``) and exported as
it came; the import report says so, and every codelist or ruleset rule the activity does
not meet becomes a note too. The API stays strict: these notes are the 422s an API caller
would get.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.cooperation.activities.codes import codes
from services.cooperation.activities.iati_map import ACTION_TAG, AREA_TAG, DATE_TYPES
from services.cooperation.activities.state import (
    ProgramRefs,
    Refs,
    State,
    budget_item,
    code,
    document_item,
    marker_item,
    nested_indicator_item,
    result_item,
    sector_item,
    transaction_fields,
)
from services.cooperation.iati import (
    IatiActivity,
    IatiOrganisationRef,
    IatiParticipatingOrg,
    IatiTag,
)
from services.cooperation.programs.models import Organisation

DATE_FIELDS = dict(DATE_TYPES)  # ActivityDateType code -> state field


def iati_state(a: IatiActivity, refs: Refs, program: ProgramRefs) -> tuple[State, list[str]]:
    """``a`` as the state fragment of an activity of ``program``, and the notes on it.

    Every field is given (absent ones as null or empty): the file is the whole activity.
    Participants whose ref is a registered organisation's are linked to it; the others keep
    the ref, name and type they came with, one entry each, duplicates included.
    """
    notes = code_notes(a)
    areas, actions = _areas(a.tags, program, notes)
    dates: dict[str, str | None] = dict.fromkeys(DATE_FIELDS.values())
    other_dates = []
    for d in a.dates:
        name = DATE_FIELDS.get(d.type)
        if name is not None and dates[name] is None:
            dates[name] = d.iso_date.isoformat()
        else:  # another type, or a second date of one type: kept as it came
            other_dates.append({"type": d.type, "iso_date": d.iso_date.isoformat()})
    title_en, title_es = _en_es(a.titles)
    description_en, description_es = _en_es(a.descriptions)
    by_ref = refs.orgs_by_ref
    state: State = {
        "identifier": a.identifier,
        "program": program.program.code,
        "title_en": title_en if title_en is not None else (title_es or ""),
        "title_es": title_es,
        "description_en": description_en,
        "description_es": description_es,
        "status": code(a.status),
        "default_currency": a.default_currency,
        "hierarchy": a.hierarchy,
        "other_dates": other_dates,
        "other_descriptions": [
            {"type": d.type, "texts": dict(d.texts)} for d in a.other_descriptions
        ],
        "participants": [_participant(p, by_ref.get(p.ref or "")) for p in a.participating_orgs],
        "priority_areas": areas,
        "action_areas": actions,
        "sectors": [sector_item(s) for s in a.sectors],
        "policy_markers": [marker_item(m) for m in a.policy_markers],
        "locations": [{"department": x.ref, "name": x.name} for x in a.locations],
        "budgets": [budget_item(b) for b in a.budgets],
        "transactions": [
            transaction_fields(t, t.value_date, _party(t.provider_org), _party(t.receiver_org))
            for t in a.transactions
        ],
        "document_links": [document_item(d) for d in a.document_links],
        "results": [
            result_item(r, [nested_indicator_item(i) for i in r.indicators]) for r in a.results
        ],
    }
    return state | dates, notes


def _en_es(texts: Mapping[str, str]) -> tuple[str | None, str | None]:
    """English (else the first language that is not Spanish) and Spanish."""
    others = (text for language, text in texts.items() if language != "es")
    return texts.get("en", next(others, None)), texts.get("es")


def _participant(p: IatiParticipatingOrg, org: Organisation | None) -> dict[str, Any]:
    """A registered organisation by its ref, else the ref, name and type as given."""
    if org is not None:
        found = {"org": org.code, "ref": org.iati_ref, "name": org.name_en, "type": org.iati_type}
    else:
        found = {"org": None, "ref": p.ref, "name": p.name or None, "type": p.type}
    return found | {"role": code(p.role)}


def _party(org: IatiOrganisationRef | None) -> dict[str, Any] | None:
    if org is None or (org.ref is None and not org.name and org.type is None):
        return None
    return {"ref": org.ref, "name": org.name or None, "type": org.type}


def _areas(
    tags: Iterable[IatiTag], program: ProgramRefs, notes: list[str]
) -> tuple[list[str], list[str]]:
    """The program's priority and action areas among the tags (vocabulary 99)."""
    areas, actions = set(), set()
    for tag in tags:
        area, action = AREA_TAG.match(tag.code), ACTION_TAG.match(tag.code)
        if tag.vocabulary == "99" and area and area.group(1) in program.areas:
            areas.add(area.group(1))
        elif tag.vocabulary == "99" and action:
            found = f"{action.group(1)}.{action.group(2)}"
            if found in program.action_areas:
                actions.add(found)
            else:
                msg = f"no such action area in {program.program.code}: kept as sent"
                notes.append(f"tag {tag.code!r}: {msg}")
    return sorted(areas), sorted(actions)


def code_notes(a: IatiActivity) -> list[str]:
    """A note for each code that is not in its IATI codelist (the schema does not check
    codes; the API would refuse them)."""
    markers = a.policy_markers
    checks: list[tuple[str | None, str, str]] = [
        (a.status, "ActivityStatus", "activity-status"),
        (a.default_currency, "Currency", "default-currency"),
        *((p.role, "OrganisationRole", "participating-org/@role") for p in a.participating_orgs),
        *((d.type, "ActivityDateType", "activity-date/@type") for d in a.dates),
        *((s.vocabulary, "SectorVocabulary", "sector/@vocabulary") for s in a.sectors),
        *((s.code, "Sector", "sector/@code") for s in a.sectors if s.vocabulary == "1"),
        *((m.code, "PolicyMarker", "policy-marker") for m in markers if m.vocabulary == "1"),
        *((m.significance, "PolicySignificance", "policy-marker") for m in markers),
        *((b.type, "BudgetType", "budget/@type") for b in a.budgets),
        *((b.status, "BudgetStatus", "budget/@status") for b in a.budgets),
        *((t.type, "TransactionType", "transaction-type") for t in a.transactions),
        *((d.category, "DocumentCategory", "document-link/category") for d in a.document_links),
        *((r.type, "ResultType", "result/@type") for r in a.results),
    ]
    return [
        f"{where}: {value!r} is not an IATI {codelist} code"
        for value, codelist, where in checks
        if value is not None and value not in codes(codelist)
    ]
