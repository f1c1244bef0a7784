"""Input (API bodies, imports) into state form, with every code checked against its list.

Each function returns the state fragment and the errors found, as ``{loc, msg, type}``
items like the request-validation problems, so all 422s read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from services.cooperation.activities.codes import DEPARTMENTS, codes
from services.cooperation.activities.schemas import (
    ActivityFields,
    BudgetIn,
    DocumentLinkIn,
    PartyIn,
    ResultIn,
    SectorIn,
    TransactionIn,
)
from services.cooperation.activities.state import (
    Refs,
    State,
    budget_item,
    day,
    document_item,
    location,
    marker_item,
    nested_indicator_item,
    result_item,
    sector_item,
    transaction_fields,
)
from services.cooperation.iati import IatiActivity, ruleset_errors

Error = dict[str, Any]
Loc = tuple[str | int, ...]


def error(loc: Loc, msg: str, type_: str = "value_error") -> Error:
    return {"loc": ["body", *[str(p) for p in loc]], "msg": msg, "type": type_}


class Checker:
    """Collects errors while a body is turned into state."""

    def __init__(self) -> None:
        self.errors: list[Error] = []

    def code(self, value: str | None, codelist: str, loc: Loc) -> None:
        if value is not None and value not in codes(codelist):
            self.errors.append(error(loc, f"{value!r} is not an IATI {codelist} code", "code"))

    def unique(self, values: Sequence[Any], loc: Loc) -> None:
        if len(set(values)) != len(values):
            self.errors.append(error(loc, "duplicate values", "duplicate"))


def normalize(body: ActivityFields, refs: Refs) -> tuple[State, list[Error]]:
    """The fields the caller sent (``model_fields_set``), in state form."""
    check = Checker()
    out: State = {}
    sent = body.model_fields_set
    for name in sent:
        value = getattr(body, name)
        convert = _FIELDS.get(name)
        out[name] = convert(value, refs, check) if convert and value is not None else value
    for name in ("planned_start", "planned_end", "actual_start", "actual_end"):
        if name in out:
            out[name] = day(out[name])
    if "program" in out and out["program"] not in refs.programs:
        check.errors.append(error(("program",), "no work program with that code", "unknown"))
    check.code(out.get("default_currency"), "Currency", ("default_currency",))
    return out, check.errors


def party(value: PartyIn, refs: Refs, check: Checker, loc: Loc) -> dict[str, Any]:
    """A registered organisation by code, or the ref/name/type given."""
    if value.org is not None:
        org = refs.orgs.get(value.org)
        if org is None:
            check.errors.append(error((*loc, "org"), f"no organisation {value.org!r}", "unknown"))
            return {"org": value.org, "ref": None, "name": value.org, "type": None}
        return {"org": org.code, "ref": org.iati_ref, "name": org.name_en, "type": org.iati_type}
    check.code(value.type, "OrganisationType", (*loc, "type"))
    return {"org": None, "ref": value.ref, "name": value.name, "type": value.type}


def _participants(values: list[Any], refs: Refs, check: Checker) -> list[dict[str, Any]]:
    out = [
        party(p, refs, check, ("participants", n)) | {"role": p.role} for n, p in enumerate(values)
    ]
    # A registered organisation takes each role once; two others may share a name (or have
    # none) and still be two organisations.
    check.unique([(p["org"], p["role"]) for p in out if p["org"]], ("participants",))
    return out


def _codes_list(field: str) -> Callable[[list[str], Refs, Checker], list[str]]:
    def convert(values: list[str], _refs: Refs, check: Checker) -> list[str]:
        check.unique(values, (field,))
        return sorted(set(values))

    return convert


def _sectors(values: list[SectorIn], _refs: Refs, check: Checker) -> list[dict[str, Any]]:
    for n, s in enumerate(values):
        check.code(s.vocabulary, "SectorVocabulary", ("sectors", n, "vocabulary"))
        if s.vocabulary == "1":
            check.code(s.code, "Sector", ("sectors", n, "code"))
    check.unique([(s.vocabulary, s.code) for s in values], ("sectors",))
    return [sector_item(s) for s in values]


def _markers(values: list[Any], _refs: Refs, check: Checker) -> list[dict[str, Any]]:
    for n, m in enumerate(values):
        check.code(m.vocabulary, "PolicyMarkerVocabulary", ("policy_markers", n, "vocabulary"))
        if m.vocabulary == "1":
            check.code(m.code, "PolicyMarker", ("policy_markers", n, "code"))
        check.code(m.significance, "PolicySignificance", ("policy_markers", n, "significance"))
    check.unique([(m.vocabulary, m.code) for m in values], ("policy_markers",))
    return [marker_item(m) for m in values]


def _locations(values: list[str], _refs: Refs, check: Checker) -> list[dict[str, str | None]]:
    for n, code in enumerate(values):
        if code not in DEPARTMENTS:
            check.errors.append(error(("locations", n), f"{code!r} is not a department code"))
    check.unique(values, ("locations",))
    return [location(code) for code in values]


def _budgets(values: list[BudgetIn], _refs: Refs, check: Checker) -> list[dict[str, Any]]:
    out = []
    for n, b in enumerate(values):
        check.code(b.type, "BudgetType", ("budgets", n, "type"))
        check.code(b.status, "BudgetStatus", ("budgets", n, "status"))
        check.code(b.currency, "Currency", ("budgets", n, "currency"))
        out.append(budget_item(b))
    return out


def transaction(t: TransactionIn, refs: Refs, check: Checker, loc: Loc) -> dict[str, Any]:
    """One transaction in state form; registered organisations become their ref/name/type."""
    check.code(t.type, "TransactionType", (*loc, "type"))
    check.code(t.currency, "Currency", (*loc, "currency"))

    def org(value: PartyIn | None, name: str) -> dict[str, Any] | None:
        if value is None:
            return None
        found = party(value, refs, check, (*loc, name))
        return {"ref": found["ref"], "name": found["name"], "type": found["type"]}

    provider, receiver = org(t.provider_org, "provider_org"), org(t.receiver_org, "receiver_org")
    return transaction_fields(t, t.value_date or t.date, provider, receiver)


def _transactions(values: list[TransactionIn], refs: Refs, check: Checker) -> list[Any]:
    return [transaction(t, refs, check, ("transactions", n)) for n, t in enumerate(values)]


def _documents(values: list[DocumentLinkIn], _refs: Refs, check: Checker) -> list[Any]:
    for n, d in enumerate(values):
        check.code(d.category, "DocumentCategory", ("document_links", n, "category"))
    return [document_item(d) for d in values]


def _results(values: list[ResultIn], _refs: Refs, check: Checker) -> list[Any]:
    out = []
    for n, r in enumerate(values):
        check.code(r.type, "ResultType", ("results", n, "type"))
        indicators = []
        for m, i in enumerate(r.indicators):
            check.code(i.measure, "IndicatorMeasure", ("results", n, "indicators", m, "measure"))
            for k, p in enumerate(i.periods):
                if p.start > p.end:
                    loc = ("results", n, "indicators", m, "periods", k)
                    check.errors.append(error(loc, "period starts after it ends", "date_order"))
            indicators.append(nested_indicator_item(i))
        out.append(result_item(r, indicators))
    return out


_FIELDS: dict[str, Callable[[Any, Refs, Checker], Any]] = {
    "participants": _participants,
    "priority_areas": _codes_list("priority_areas"),
    "action_areas": _codes_list("action_areas"),
    "sectors": _sectors,
    "policy_markers": _markers,
    "locations": _locations,
    "budgets": _budgets,
    "transactions": _transactions,
    "document_links": _documents,
    "results": _results,
}


def check_state(
    state: State,
    refs: Refs,
    today: date,
    to_iati: Callable[[State], IatiActivity],
    *,
    all_rules: bool = False,
) -> list[Error]:
    """Rules on a whole activity: its areas belong to its program, the lead takes part, and
    the IATI ruleset (identifier prefix, sector percentages, dates, budget periods). The
    ruleset is checked only when the rest holds, unless ``all_rules`` (then whenever the
    areas exist, which the IATI form of the activity needs)."""
    errors: list[Error] = []
    program = refs.programs.get(state["program"])
    if program is None:
        return [error(("program",), "no work program with that code", "unknown")]
    for code in state["priority_areas"]:
        if code not in program.areas:
            msg = f"{code} is not a priority area of the program"
            errors.append(error(("priority_areas",), msg))
    for code in state["action_areas"]:
        if code not in program.action_areas:
            errors.append(error(("action_areas",), f"{code} is not an action area of the program"))
    if errors:
        return errors
    for code in state["action_areas"]:
        if code.split(".")[0] not in state["priority_areas"]:
            errors.append(
                error(("action_areas",), f"{code}: add its priority area to priority_areas")
            )
    if state["lead_org"] not in {p["org"] for p in state["participants"]}:
        errors.append(
            error(("participants",), f"the lead organisation {state['lead_org']} must take part")
        )
    if errors and not all_rules:
        return errors
    for message in ruleset_errors(to_iati(state), today):
        rule, _, text = message.partition(": ")
        where = "transactions" if text.startswith("transaction") else RULE_FIELDS.get(rule, rule)
        errors.append(error((where,), text, rule))
    return errors


RULE_FIELDS = {
    "identifier-prefix": "identifier",
    "sector-percentages": "sectors",
    "date-in-future": "dates",
    "date-order": "dates",
    "budget-period": "budgets",
}
