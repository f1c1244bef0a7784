"""Activities and programs as IATI 2.03 (the way back, for imports, is ``iati_state``).

Conventions (DOMAIN.md section 5): the identifier is the reporting organisation's ref, "-",
the publisher's own id; the work program is the parent (hierarchy 1, reported by its
national focal point) and each activity a child (hierarchy 2) linked to it by
``related-activity`` type 1; priority areas and action areas are ``tag``s of vocabulary 99
(``PA-A``, ``PA-A-AA1``), the program's goals ``GOAL-A``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from services.cooperation import iati
from services.cooperation.activities.state import (
    ProgramRefs,
    Refs,
    State,
    iati_budget,
    iati_transaction,
    period_values,
)
from services.cooperation.programs.models import Organisation

DATE_TYPES = (
    ("1", "planned_start"),
    ("2", "actual_start"),
    ("3", "planned_end"),
    ("4", "actual_end"),
)
PARENT, CHILD = "1", "2"
AREA_TAG = re.compile(r"^PA-([A-Z]{1,4})$")
ACTION_TAG = re.compile(r"^PA-([A-Z]{1,4})-AA([0-9]{1,3})$")


def org_ref(org: Organisation) -> iati.IatiOrganisationRef:
    return iati.IatiOrganisationRef(ref=org.iati_ref, name=org.name_en, type=org.iati_type)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _texts(en: str | None, es: str | None) -> dict[str, str]:
    # An empty text an import kept is still a narrative (IATI requires one per title).
    return {k: v for k, v in (("en", en), ("es", es)) if v is not None}


def _dates(state: State) -> tuple[iati.IatiActivityDate, ...]:
    known = [(code, state[key]) for code, key in DATE_TYPES if state[key]]
    others = [(d["type"], d["iso_date"]) for d in state["other_dates"]]
    return tuple(iati.IatiActivityDate(t, date.fromisoformat(d)) for t, d in known + others)


def _tags(state: State, program: ProgramRefs | None) -> tuple[iati.IatiTag, ...]:
    if program is None:
        return ()
    tags = [iati.IatiTag(f"PA-{c}", program.areas[c].title_en) for c in state["priority_areas"]]
    for code in state["action_areas"]:
        area, number = code.split(".")
        action = program.action_areas[code]
        tags.append(iati.IatiTag(f"PA-{area}-AA{number}", action.text_en))
    return tuple(tags)


def _results(state: State) -> tuple[iati.IatiResult, ...]:
    return tuple(
        iati.IatiResult(
            type=r["type"],
            title=r["title"],
            description=r["description"],
            aggregation_status=r["aggregation_status"],
            indicators=tuple(
                iati.IatiIndicator(
                    measure=i["measure"],
                    title=i["title"],
                    ascending=i["ascending"],
                    baseline=None
                    if i["baseline"] is None
                    else iati.IatiBaseline(
                        year=i["baseline"]["year"],
                        value=i["baseline"]["value"],
                        iso_date=_day(i["baseline"]["iso_date"]),
                    ),
                    periods=tuple(iati.IatiPeriod(**period_values(p)) for p in i["periods"]),
                )
                for i in r["indicators"]
            ),
        )
        for r in state["results"]
    )


def activity_iati(state: State, refs: Refs, last_updated: datetime) -> iati.IatiActivity:
    """The activity (in state form) as an IATI activity, child of its program."""
    reporter = refs.orgs[state["reporting_org"]]
    program = refs.programs.get(state["program"])
    parent = program.identifier if program else None
    return iati.IatiActivity(
        identifier=state["identifier"],
        reporting_org=org_ref(reporter),
        last_updated=last_updated,
        titles=_texts(state["title_en"], state["title_es"]),
        descriptions=_texts(state["description_en"], state["description_es"]),
        other_descriptions=tuple(
            iati.IatiDescription(d["type"], d["texts"]) for d in state["other_descriptions"]
        ),
        participating_orgs=tuple(
            iati.IatiParticipatingOrg(str(p["role"]), p["ref"], p["name"] or "", p["type"])
            for p in state["participants"]
        ),
        status=str(state["status"]),
        dates=_dates(state),
        hierarchy=state["hierarchy"],
        default_currency=state["default_currency"],
        locations=tuple(iati.IatiLocation(x["name"], x["department"]) for x in state["locations"]),
        sectors=tuple(
            iati.IatiSector(
                s["code"],
                None if s["percentage"] is None else Decimal(s["percentage"]),
                s["vocabulary"],
            )
            for s in state["sectors"]
        ),
        tags=_tags(state, program),
        policy_markers=tuple(
            iati.IatiPolicyMarker(m["code"], m["significance"], m["vocabulary"])
            for m in state["policy_markers"]
        ),
        budgets=tuple(iati_budget(b) for b in state["budgets"]),
        transactions=tuple(iati_transaction(t) for t in state["transactions"]),
        document_links=tuple(
            iati.IatiDocumentLink(
                d["url"],
                d["format"],
                d["title"],
                d["category"],
                document_date=_day(d["document_date"]),
                language=d["language"],
            )
            for d in state["document_links"]
        ),
        related_activities=(iati.IatiRelatedActivity(parent, PARENT),) if parent else (),
        results=_results(state),
    )


def program_status(program: ProgramRefs, today: date) -> str:
    """ActivityStatus of a program from its period: 1 before, 2 during, 4 after."""
    if today < program.program.period_start:
        return "1"
    return "2" if today <= program.program.period_end else "4"


def program_iati(
    program: ProgramRefs, refs: Refs, last_updated: datetime, today: date
) -> iati.IatiActivity | None:
    """The program as the parent activity (without its children's links, which a streamed
    export appends itself); None when it has no reporting organisation with a ref."""
    p = program.program
    reporter = next((o for o in refs.orgs.values() if o.id == p.reporting_org_id), None)
    if program.identifier is None or reporter is None:
        return None
    goals = [iati.IatiTag(f"GOAL-{g.code}", g.text_en) for g in p.goals]
    areas = [
        iati.IatiTag(f"PA-{code}", area.title_en) for code, area in sorted(program.areas.items())
    ]
    return iati.IatiActivity(
        identifier=program.identifier,
        reporting_org=org_ref(reporter),
        last_updated=last_updated,
        hierarchy=1,
        titles=_texts(p.title_en, p.title_es),
        descriptions=_texts(p.preamble_en or p.title_en, None),
        participating_orgs=(
            iati.IatiParticipatingOrg("2", reporter.iati_ref, reporter.name_en, reporter.iati_type),
        ),
        status=program_status(program, today),
        dates=(
            iati.IatiActivityDate("1", p.period_start),
            iati.IatiActivityDate("3", p.period_end),
        ),
        sectors=(iati.IatiSector(p.sector, None),) if p.sector else (),
        tags=(*goals, *areas),
    )
