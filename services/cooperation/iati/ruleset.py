"""The IATI Standard ruleset (``rulesets/standard.json``), applied as the JSON states it.

The JSON (IATI/IATI-Rulesets, branch version-2.03, commit a88f835, MIT licence in
``rulesets/LICENSE``) maps an XPath context (``/iati-activities/iati-activity``, ``//title``
...) to rule kinds, each with cases; a case has XPaths relative to the context and a
``ruleInfo`` whose ``id`` (``6.2.2``, ``7.8.1`` ...) is the number the IATI Validator shows.
Findings carry that id unchanged. Every kind the JSON uses is implemented here (a kind
without a function fails loudly when the ruleset is loaded), plus the other kinds the
IATI-Rulesets documentation defines (``none``, ``only_one``, ``dependent``, ``sum``,
``regex_no_matches``, ``evaluates_to_true``), so a newer ruleset file reads the same way.

Conventions where the JSON leaves room, as the IATI Validator applies them:
- ``one_or_all``: ``one`` is an attribute or child of the context; ``all: lang`` means
  every narrative has ``xml:lang``, ``all: currency`` every monetary value has
  ``@currency``, ``all: sector`` every transaction has a ``sector``.
- ``idCondition: NOT_EXISTING_ORG_ID`` skips refs that are registered IATI organisation
  identifiers (:data:`REGISTERED_ORG_IDS`); ``..._PREFIX`` skips identifiers that start with
  one. ``prefix: ORG-ID-PREFIX`` stands for the OrganisationRegistrationAgency codes.
- Dates are compared by day; a missing or unreadable date makes a date rule not apply
  (the schema reports malformed ones). ``date_order`` fails only when ``less`` is after
  ``more``; ``time_limit`` fails for a period of more than one year (1 January to
  31 December is one year).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from .codelists import codelist_findings, codes
from .validate import Finding

RULESET = Path(__file__).parent / "rulesets" / "standard.json"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Elements holding money (their @currency, or the activity's @default-currency).
MONEY = ("value", "loan-status", "forecast")

# Registered IATI organisation identifiers that do not start with a registration-agency
# code: the IATIOrganisationIdentifier codelist (XI-IATI-*), and the IATI Registry
# publisher identifiers of the bodies in Enlace's data (iatiregistry.org/publisher/about/
# usaid, /epa, /doc: US-GOV-1, US-GOV-32, US-GOV-16).
REGISTRY_PUBLISHERS = frozenset({"US-GOV-1", "US-GOV-16", "US-GOV-32"})


@functools.cache
def registered_org_ids() -> frozenset[str]:
    return REGISTRY_PUBLISHERS | codes("IATIOrganisationIdentifier")


Node = Any  # an lxml element, or an attribute / text result (a str with getparent())
Check = Callable[["Context", dict[str, Any]], list[Node] | bool]


class Text(str):
    """The text of an element, as a value that still knows its element (for its line)."""

    element: etree._Element

    def __new__(cls, element: etree._Element) -> Text:
        text = super().__new__(
            cls, element.xpath("string()") if len(element) else element.text or ""
        )
        text.element = element
        return text

    def getparent(self) -> etree._Element:
        return self.element


@dataclass(frozen=True, slots=True)
class Context:
    element: etree._Element
    today: date

    def select(self, path: str) -> list[Node]:
        found = self.element.xpath(path)
        return list(found) if isinstance(found, list) else [found]

    def values(self, path: str) -> list[Node]:
        """Attribute values and element texts at ``path`` (each knows its element)."""
        return [n if isinstance(n, str) else Text(n) for n in self.select(path)]

    def holds(self, expression: str) -> bool:
        return bool(self.element.xpath(f"boolean({expression})"))

    def dates(self, path: str) -> list[date]:
        if path == "NOW":
            return [self.today]
        return [d for d in (_day(v) for v in self.values(path)) if d is not None]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _org_id_exempt(case: dict[str, Any], value: str) -> bool:
    condition = case.get("idCondition")
    if condition == "NOT_EXISTING_ORG_ID":
        return value.strip() in registered_org_ids()
    if condition == "NOT_EXISTING_ORG_ID_PREFIX":
        return any(value.startswith(f"{org}-") for org in registered_org_ids())
    return False


# --- the rule kinds: each returns the offending nodes (or False) when the case fails -------


def _atleast_one(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return any(ctx.select(p) for p in case["paths"])


def _none(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return [n for p in case["paths"] for n in ctx.select(p)]


def _matches(ctx: Context, case: dict[str, Any]) -> list[Node]:
    return [n for p in case["paths"] for n in ctx.select(p)]


def _only_one(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return len(_matches(ctx, case)) == 1


def _no_more_than_one(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    found = _matches(ctx, case)
    return found[1:] if len(found) > 1 else True


def _dependent(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    present = [bool(ctx.select(p)) for p in case["paths"]]
    return all(present) or not any(present)


def _unique(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    seen: set[str] = set()
    repeated = []
    for node in _matches(ctx, case):
        text = node if isinstance(node, str) else (node.text or "")
        if text in seen:
            repeated.append(node)
        seen.add(text)
    return repeated or True


def _sum(ctx: Context, case: dict[str, Any], *, strict: bool = False) -> list[Node] | bool:
    values = (_number(v) for p in case["paths"] for v in ctx.values(p))
    numbers = [n for n in values if n is not None]
    if not numbers and not strict:
        return True
    total = sum(numbers, Decimal(0))
    target = Decimal(str(case["sum"]))
    # Decimal sums are exact: 33.33 + 33.33 + 33.34 is 100; "sum" allows float rounding.
    return total == target if strict else abs(total - target) < Decimal("0.0001")


def _strict_sum(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return _sum(ctx, case, strict=True)


def _range(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    low = Decimal(str(case.get("min", "-Infinity")))
    high = Decimal(str(case.get("max", "Infinity")))
    bad = []
    for path in case["paths"]:
        for value in ctx.values(path):
            number = _number(value)
            if number is None or not low <= number <= high:
                bad.append(value)
    return bad or True


def _regex(ctx: Context, case: dict[str, Any], *, match: bool) -> list[Node] | bool:
    pattern = re.compile(case["regex"])
    bad = [
        v
        for p in case["paths"]
        for v in ctx.values(p)
        if not _org_id_exempt(case, v) and bool(pattern.search(v)) != match
    ]
    return bad or True


def _regex_matches(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return _regex(ctx, case, match=True)


def _regex_no_matches(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return _regex(ctx, case, match=False)


def _no_spaces(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return [v for p in case["paths"] for v in ctx.values(p) if v != v.strip()] or True


def _prefixes(ctx: Context, case: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for prefix in case["prefix"]:
        if prefix == "ORG-ID-PREFIX":
            found += sorted(f"{code}-" for code in codes("OrganisationRegistrationAgency"))
        else:
            found += [v + case.get("separator", "") for v in ctx.values(prefix) if v]
    return found


def _startswith(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    prefixes = tuple(_prefixes(ctx, case))
    bad = [
        v
        for p in case["paths"]
        for v in ctx.values(p)
        if not _org_id_exempt(case, v) and not v.startswith(prefixes)
    ]
    return bad or True


def _date_order(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    more = ctx.dates(case["more"])
    if not more:
        return True
    latest = min(more)
    if case["less"] == "NOW":
        return ctx.today <= latest
    bad = [v for v in ctx.values(case["less"]) if (d := _day(v)) is not None and d > latest]
    return bad or True


def _date_now(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    bad = [v for v in ctx.values(case["date"]) if (d := _day(v)) is not None and d > ctx.today]
    return bad or True


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return date(day.year + 1, 3, 1)


def _time_limit(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    starts, ends = ctx.dates(case["start"]), ctx.dates(case["end"])
    if not starts or not ends:
        return True
    return max(ends) < _one_year_after(min(starts))


def _between_dates(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    starts, ends = ctx.dates(case["start"]), ctx.dates(case["end"])
    if not starts or not ends:
        return True
    bad = [
        v
        for v in ctx.values(case["date"])
        if (d := _day(v)) is not None and not min(starts) <= d <= max(ends)
    ]
    return bad or True


def _if_then(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return not ctx.holds(case["if"]) or ctx.holds(case["then"])


def _evaluates_to_true(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    return all(ctx.holds(e) for e in case["eval"])


def _one_or_all(ctx: Context, case: dict[str, Any]) -> list[Node] | bool:
    one = case["one"]
    if ctx.select(one):
        return True
    if case["all"] == "lang":
        return [n for n in ctx.element.iter("narrative") if not n.get(XML_LANG)] or True
    if case["all"] == "sector":  # 6.7.2: a sector at activity level, or in every transaction
        transactions = ctx.element.iterchildren("transaction")
        return [t for t in transactions if t.find("sector") is None] or True
    attribute = case["all"]
    missing = [e for e in ctx.element.iter(*MONEY) if e.get(attribute) is None]
    return missing or True


KINDS: dict[str, Check] = {
    "atleast_one": _atleast_one,
    "none": _none,
    "only_one": _only_one,
    "no_more_than_one": _no_more_than_one,
    "dependent": _dependent,
    "unique": _unique,
    "sum": _sum,
    "strict_sum": _strict_sum,
    "range": _range,
    "regex_matches": _regex_matches,
    "regex_no_matches": _regex_no_matches,
    "no_spaces": _no_spaces,
    "startswith": _startswith,
    "date_order": _date_order,
    "date_now": _date_now,
    "time_limit": _time_limit,
    "between_dates": _between_dates,
    "if_then": _if_then,
    "evaluates_to_true": _evaluates_to_true,
    "one_or_all": _one_or_all,
}


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    case: dict[str, Any]


def _expand(kinds: dict[str, Any]) -> Iterator[tuple[Rule, dict[str, Any] | None]]:
    """Every (rule, loop) of a context; a ``loop`` case is kept with its rules to expand
    per element, since its ``foreach`` values depend on the element."""
    for kind, body in kinds.items():
        for case in body["cases"]:
            if kind == "loop":
                for inner_kind, inner in case["do"].items():
                    for inner_case in inner["cases"]:
                        yield Rule(inner_kind, inner_case), case
            else:
                yield Rule(kind, case), None


@functools.cache
def ruleset() -> tuple[tuple[str, tuple[tuple[Rule, dict[str, Any] | None], ...]], ...]:
    """The ruleset as (context XPath, rules); raises if it uses a kind not implemented."""
    data: dict[str, Any] = json.loads(RULESET.read_text(encoding="utf-8"))
    contexts = []
    for context, kinds in data.items():
        rules = tuple(_expand(kinds))
        unknown = {r.kind for r, _ in rules} - set(KINDS)
        if unknown:
            raise ValueError(f"ruleset kinds not implemented: {', '.join(sorted(unknown))}")
        contexts.append((context, rules))
    return tuple(contexts)


def _substituted(case: dict[str, Any], value: str) -> dict[str, Any]:
    """The case with ``$1`` replaced by the loop's value in every XPath of it: ``subs``
    lists only some keys, but a ``condition`` mentioning ``$1`` (rule 2.1.2 in a loop) is
    only meaningful substituted too."""

    def sub(item: Any) -> Any:
        if isinstance(item, str):
            return item.replace("$1", value)
        if isinstance(item, list):
            return [sub(x) for x in item]
        return item

    return {k: v if k == "ruleInfo" else sub(v) for k, v in case.items()}


def _cases(ctx: Context, rule: Rule, loop: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
    if loop is None:
        yield rule.case
        return
    for value in dict.fromkeys(ctx.values(loop["foreach"])):
        if "'" not in value:  # a quote would end the XPath literal it is put into
            yield _substituted(rule.case, value)


def _element(node: Node, fallback: etree._Element) -> etree._Element:
    """The element a finding points at: the offending one, else the context."""
    if isinstance(node, etree._Element):
        return node
    parent = node.getparent() if hasattr(node, "getparent") else None
    return parent if isinstance(parent, etree._Element) else fallback


def ruleset_findings(root: etree._Element, today: date) -> list[Finding]:
    """Every case of the ruleset that ``root`` (an ``iati-activities`` or
    ``iati-organisations`` document) fails, in document order."""
    tree = root.getroottree()
    findings: list[Finding] = []
    for context, rules in ruleset():
        for element in root.xpath(context):
            ctx = Context(element, today)
            for rule, loop in rules:
                for case in _cases(ctx, rule, loop):
                    if "condition" in case and not ctx.holds(case["condition"]):
                        continue
                    result = KINDS[rule.kind](ctx, case)
                    if result is True or result == []:
                        continue
                    info = case["ruleInfo"]
                    nodes = result if isinstance(result, list) and result else [element]
                    at = _element(nodes[0], element)
                    findings.append(
                        Finding(
                            line=at.sourceline or element.sourceline or 0,
                            rule=info["id"],
                            severity=info["severity"],
                            message=info["message"],
                            path=tree.getpath(at),
                            category=info.get("category", ""),
                        )
                    )
    findings.sort(key=lambda f: (f.line, f.rule))
    return findings


def document_findings(root: etree._Element, today: date) -> list[Finding]:
    """Ruleset and codelist findings of an iati-activities document, by line."""
    found = ruleset_findings(root, today) + codelist_findings(root)
    return sorted(found, key=lambda f: (f.line, f.rule))
