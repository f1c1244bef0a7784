"""IATI 2.03 model, XML streaming and parsing, schema validation and ruleset checks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.cooperation import iati
from services.cooperation.iati import (
    SchemaError,
    errors_by_line,
    funding_status,
    parse_activities,
    ruleset_errors,
    schema_errors,
    write_activities,
)

MINAM = iati.IatiOrganisationRef(
    ref="PE-RUC-20492966658", name="Ministerio del Ambiente", type="10"
)
USAID = iati.IatiOrganisationRef(ref="US-GOV-1", name="USAID", type="10")
GENERATED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
UPDATED = datetime(2026, 11, 20, 15, 0, 5, 250000, tzinfo=UTC)
TODAY = date(2026, 11, 22)
PROGRAM_ID = f"{MINAM.ref}-US-PE-ECWP-2015-2018"


def minimal(identifier: str = f"{MINAM.ref}-MIN-01", **changes: Any) -> iati.IatiActivity:
    """Only what the schema requires."""
    activity = iati.IatiActivity(
        identifier=identifier,
        reporting_org=MINAM,
        last_updated=UPDATED,
        titles={"en": "Minimal activity"},
        descriptions={"en": "Only the required elements."},
        participating_orgs=(iati.IatiParticipatingOrg(role="2", ref=MINAM.ref, name=MINAM.name),),
        status="1",
        dates=(iati.IatiActivityDate(type="1", iso_date=date(2026, 1, 1)),),
        recipient_country=None,
    )
    return dataclasses.replace(activity, **changes)


def full() -> iati.IatiActivity:
    """Every part of the model filled in."""
    period = iati.IatiPeriod(
        start=date(2017, 1, 1), end=date(2017, 12, 31), target="20", actual="22"
    )
    return iati.IatiActivity(
        identifier=f"{MINAM.ref}-OEFA-ENF-01",
        reporting_org=MINAM,
        last_updated=UPDATED,
        hierarchy=2,
        default_currency="USD",
        default_language="en",
        titles={"en": "Inspection training", "es": "Capacitación en inspecciones"},
        descriptions={"en": "Train-the-trainer <program> & more", "es": "Formación de formadores"},
        participating_orgs=(
            iati.IatiParticipatingOrg(role="1", ref=USAID.ref, name="USAID", type="10"),
            iati.IatiParticipatingOrg(
                role="2", ref=MINAM.ref, name=MINAM.name, type="10", activity_id=PROGRAM_ID
            ),
            iati.IatiParticipatingOrg(role="4", ref=None, name="Ciudad Saludable", type="22"),
        ),
        status="2",
        dates=(
            iati.IatiActivityDate(type="1", iso_date=date(2017, 1, 1)),
            iati.IatiActivityDate(type="2", iso_date=date(2017, 9, 1)),
            iati.IatiActivityDate(type="3", iso_date=date(2020, 6, 30)),
            iati.IatiActivityDate(type="4", iso_date=date(2020, 3, 31)),
        ),
        recipient_country="PE",
        locations=(
            iati.IatiLocation(name="Lima", ref="15"),
            iati.IatiLocation(name="Huánuco", ref="10"),
        ),
        sectors=(
            iati.IatiSector(code="41010", percentage=Decimal("60")),
            iati.IatiSector(code="41081", percentage=Decimal("40.00")),
        ),
        tags=(
            iati.IatiTag(
                code="PA-A", text="Priority area A", vocabulary_uri="https://enlace.example/pa"
            ),
            iati.IatiTag(code="PA-A-AA1", text="Action area A.1"),
        ),
        policy_markers=(
            iati.IatiPolicyMarker(code="2", significance="2"),
            iati.IatiPolicyMarker(code="6", significance="1"),
        ),
        budgets=(
            iati.IatiBudget(
                period_start=date(2017, 1, 1),
                period_end=date(2017, 12, 31),
                value=Decimal("60000.00"),
                value_date=date(2017, 1, 1),
                currency="USD",
                type="1",
                status="2",
            ),
            iati.IatiBudget(
                period_start=date(2018, 1, 1),
                period_end=date(2018, 12, 31),
                value=Decimal("1E+4"),  # written in plain notation, which xsd:decimal needs
                value_date=date(2018, 1, 1),
                type="2",
                status="1",
            ),
        ),
        transactions=(
            iati.IatiTransaction(
                type="2",
                date=date(2017, 3, 15),
                value=Decimal("70000.00"),
                value_date=date(2017, 3, 15),
                currency="USD",
                description="Commitment",
                provider_org=USAID,
                receiver_org=MINAM,
            ),
            iati.IatiTransaction(
                type="3",
                date=date(2017, 12, 15),
                value=Decimal("58200.50"),
                value_date=date(2017, 12, 15),
            ),
        ),
        document_links=(
            iati.IatiDocumentLink(
                url="https://enlace.example/reports/oefa-enf-01.pdf",
                format="application/pdf",
                title="Progress report 2017",
                category="A07",
                document_date=date(2018, 1, 31),
                language="es",
            ),
        ),
        related_activities=(iati.IatiRelatedActivity(ref=PROGRAM_ID, type="1"),),
        results=(
            iati.IatiResult(
                type="1",
                title="Inspectors trained",
                description="Trainers certified by the program",
                aggregation_status=True,
                indicators=(
                    iati.IatiIndicator(
                        measure="1",
                        title="OEFA staff trained",
                        ascending=True,
                        baseline=iati.IatiBaseline(year=2017, value="0", iso_date=date(2017, 1, 1)),
                        periods=(period, dataclasses.replace(period, actual=None)),
                    ),
                    iati.IatiIndicator(measure="5", title="Quality of training", ascending=False),
                ),
            ),
        ),
    )


def document(*activities: iati.IatiActivity) -> bytes:
    return b"".join(write_activities(activities, generated=GENERATED))


def line_of(xml: bytes, fragment: bytes) -> int:
    """1-based number of the first line of ``xml`` containing ``fragment``."""
    return next(n for n, text in enumerate(xml.splitlines(), 1) if fragment in text)


def program_with_children() -> list[iati.IatiActivity]:
    children = [minimal(f"{MINAM.ref}-CHILD-{n}") for n in (1, 2)]
    children = [
        dataclasses.replace(c, related_activities=(iati.IatiRelatedActivity(PROGRAM_ID, "1"),))
        for c in children
    ]
    program = minimal(
        PROGRAM_ID,
        hierarchy=1,
        titles={"en": "US-Peru Environmental Cooperation Work Program (2015-2018)"},
        tags=(iati.IatiTag(code="GOAL-A", text="Goal A"), iati.IatiTag(code="PA-A", text="Area A")),
        related_activities=tuple(iati.IatiRelatedActivity(c.identifier, "2") for c in children),
    )
    return [program, *children]


# --- schema validity ------------------------------------------------------------------


def test_fully_populated_activity_validates_against_the_xsd() -> None:
    assert schema_errors(document(full())) == []


def test_minimal_activity_validates_against_the_xsd() -> None:
    assert schema_errors(document(minimal())) == []


def test_program_and_children_validate_and_link_both_ways() -> None:
    program, *children = parse_activities(document(*program_with_children()))
    assert program.hierarchy == 1
    assert {r.ref for r in program.related_activities if r.type == "2"} == {
        c.identifier for c in children
    }
    assert all(c.hierarchy == 2 for c in children)
    assert all(
        c.related_activities == (iati.IatiRelatedActivity(PROGRAM_ID, "1"),) for c in children
    )
    assert schema_errors(document(*program_with_children())) == []


def test_schema_errors_give_the_line_of_the_problem() -> None:
    xml = document(minimal()).replace(b'<activity-status code="1"/>', b"")
    errors = schema_errors(xml)
    assert errors
    assert errors[0].line == line_of(xml, b"<activity-date")
    assert "activity-date" in errors[0].message


def test_malformed_xml_is_reported_by_line() -> None:
    errors = schema_errors(b"<iati-activities version='2.03'>\n<iati-activity>\n</iati-activities>")
    assert errors
    assert errors[0].line == 3


def test_errors_by_line_groups_and_sorts() -> None:
    errors = [SchemaError(7, "b"), SchemaError(2, "a"), SchemaError(7, "c")]
    assert errors_by_line(errors) == {2: ["a"], 7: ["b", "c"]}


# --- round trip and streaming -----------------------------------------------------------


@pytest.mark.parametrize("activity", [full(), minimal()], ids=["full", "minimal"])
def test_parse_reads_back_what_write_wrote(activity: iati.IatiActivity) -> None:
    assert parse_activities(document(activity)) == [activity]


def test_round_trip_of_a_program_and_from_a_file_object() -> None:
    activities = program_with_children()
    assert parse_activities(BytesIO(document(*activities))) == activities


def test_datetimes_are_written_in_utc_and_compare_equal() -> None:
    lima = timezone(timedelta(hours=-5))
    activity = minimal(last_updated=datetime(2026, 11, 20, 10, 0, tzinfo=lima))
    xml = document(activity)
    assert b'last-updated-datetime="2026-11-20T15:00:00+00:00"' in xml
    assert parse_activities(xml) == [activity]


def test_naive_datetimes_are_refused() -> None:
    # Naive on purpose: the test is that they are refused.
    with pytest.raises(ValueError, match="timezone-aware"):
        minimal(last_updated=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        b"".join(write_activities([], generated=datetime(2026, 1, 1)))  # noqa: DTZ001


def test_write_streams_one_activity_at_a_time() -> None:
    consumed: list[str] = []

    def activities() -> Iterator[iati.IatiActivity]:
        for n in range(3):
            consumed.append(str(n))
            yield minimal(f"{MINAM.ref}-S-{n}")

    chunks = write_activities(activities(), generated=GENERATED)
    head = next(chunks)
    assert head.startswith(b"<?xml")
    assert b"<iati-activities" in head
    assert consumed == []
    first = next(chunks)
    assert b"<iati-activity " in first
    assert f"{MINAM.ref}-S-0".encode() in first
    assert consumed == ["0"]  # the last activities have not been pulled yet
    rest = list(chunks)
    assert consumed == ["0", "1", "2"]
    assert rest[-1] == b"</iati-activities>\n"
    assert len(rest) == 3
    assert schema_errors(head + first + b"".join(rest)) == []


def test_parse_errors_carry_the_line() -> None:
    with pytest.raises(iati.IatiParseError) as malformed:
        parse_activities(b"<iati-activities>\n<iati-activity>\n<oops></iati-activity>")
    assert malformed.value.line == 3
    xml = document(minimal()).replace(b'<activity-status code="1"/>', b"<activity-status/>")
    with pytest.raises(iati.IatiParseError, match="code") as missing:
        parse_activities(xml)
    assert missing.value.line == line_of(xml, b"<activity-status/>")


def test_entities_are_not_expanded_on_import() -> None:
    xml = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        + document(minimal()).split(b"\n", 1)[1].replace(b"Minimal activity", b"&e;")
    )
    (activity,) = parse_activities(xml)
    assert "root:" not in activity.titles.get("en", "")


def test_a_doctype_is_refused_by_the_schema_check() -> None:
    """Entity declarations start XML bombs and file reads; IATI never needs them (and the
    schema validator fails internally on unresolved entity references)."""
    xml = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        + document(minimal()).split(b"\n", 1)[1].replace(b"Minimal activity", b"&e;")
    )
    assert schema_errors(xml) == [
        SchemaError(1, "DOCTYPE declarations (and entities) are not allowed")
    ]


# --- ruleset ------------------------------------------------------------------------------


def rule_names(activity: iati.IatiActivity, today: date = TODAY) -> list[str]:
    return [message.split(":", 1)[0] for message in ruleset_errors(activity, today)]


def test_a_complete_activity_passes_the_ruleset() -> None:
    assert ruleset_errors(full(), TODAY) == []
    assert all(ruleset_errors(a, TODAY) == [] for a in program_with_children())


def test_identifier_must_start_with_the_reporting_org_ref() -> None:
    assert rule_names(minimal("XM-DAC-41116-MIN-01")) == ["identifier-prefix"]
    assert rule_names(minimal(f"{MINAM.ref}MIN-01")) == ["identifier-prefix"]


@pytest.mark.parametrize(
    ("percentages", "ok"),
    [
        ((None,), True),
        (("100",), True),
        (("33.33", "33.33", "33.34"), True),
        (("60", "30"), False),
        (("60", None), False),
        (("99",), False),
    ],
)
def test_sector_percentages_sum_to_100_per_vocabulary(
    percentages: tuple[str | None, ...], ok: bool
) -> None:
    sectors = tuple(
        iati.IatiSector(code=f"4101{n}", percentage=None if p is None else Decimal(p))
        for n, p in enumerate(percentages)
    )
    # A second vocabulary is checked on its own.
    other = iati.IatiSector(code="1", vocabulary="99", percentage=Decimal(100))
    assert rule_names(minimal(sectors=(*sectors, other))) == ([] if ok else ["sector-percentages"])


def test_actual_dates_and_transactions_must_not_be_in_the_future() -> None:
    activity = full()
    assert rule_names(activity, today=date(2020, 3, 30)) == ["date-in-future"]
    assert rule_names(activity, today=date(2017, 12, 14)) == ["date-in-future"] * 2


def test_starts_must_not_be_after_ends() -> None:
    dates = (
        iati.IatiActivityDate("1", date(2020, 1, 2)),
        iati.IatiActivityDate("3", date(2020, 1, 1)),
        iati.IatiActivityDate("2", date(2020, 1, 5)),
        iati.IatiActivityDate("4", date(2020, 1, 4)),
    )
    assert rule_names(minimal(dates=dates)) == ["date-order", "date-order"]
    one_day = (
        iati.IatiActivityDate("1", date(2020, 1, 1)),
        iati.IatiActivityDate("3", date(2020, 1, 1)),
    )
    assert rule_names(minimal(dates=one_day)) == []


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        (date(2017, 1, 1), date(2017, 12, 31), True),
        (date(2017, 3, 1), date(2018, 2, 28), True),
        (date(2020, 2, 29), date(2021, 2, 28), True),
        (date(2017, 1, 1), date(2018, 1, 1), False),
        (date(2020, 2, 29), date(2021, 3, 1), False),
        (date(2017, 6, 1), date(2017, 6, 1), False),
        (date(2017, 6, 2), date(2017, 6, 1), False),
    ],
)
def test_budget_periods_start_before_end_and_last_at_most_a_year(
    start: date, end: date, ok: bool
) -> None:
    budget = iati.IatiBudget(start, end, Decimal(1), start)
    assert rule_names(minimal(budgets=(budget,))) == ([] if ok else ["budget-period"])


# --- funding status -------------------------------------------------------------------------


def budget(value: str, status: str, currency: str | None = "USD") -> iati.IatiBudget:
    return iati.IatiBudget(
        date(2017, 1, 1),
        date(2017, 12, 31),
        Decimal(value),
        date(2017, 1, 1),
        currency=currency,
        status=status,
    )


def transaction(type_: str, value: str, currency: str | None = "USD") -> iati.IatiTransaction:
    return iati.IatiTransaction(type_, date(2017, 6, 1), Decimal(value), date(2017, 6, 1), currency)


@pytest.mark.parametrize(
    ("budgets", "transactions", "expected"),
    [
        ([], [], "none"),
        ([budget("100", "1")], [], "pledged"),
        ([], [transaction("12", "100")], "pledged"),
        ([budget("100", "2")], [], "committed"),
        ([budget("100", "1")], [transaction("2", "100")], "committed"),
        ([], [transaction("2", "100"), transaction("3", "40")], "partially_disbursed"),
        ([budget("100", "2")], [transaction("4", "99.99")], "partially_disbursed"),
        ([budget("100", "1")], [transaction("3", "60")], "partially_disbursed"),
        (
            [],
            [transaction("2", "100"), transaction("3", "60"), transaction("4", "40")],
            "disbursed",
        ),
        ([], [transaction("3", "10")], "disbursed"),
    ],
)
def test_funding_status(
    budgets: list[iati.IatiBudget], transactions: list[iati.IatiTransaction], expected: str
) -> None:
    assert funding_status(budgets, transactions) == expected


def test_funding_status_refuses_to_add_up_different_currencies() -> None:
    with pytest.raises(ValueError, match="EUR, USD"):
        funding_status([budget("100", "2")], [transaction("3", "10", "EUR")])
    mixed_with_default = [budget("100", "2", None)], [transaction("3", "10", "EUR")]
    with pytest.raises(ValueError, match="PEN"):
        funding_status(*mixed_with_default, default_currency="PEN")
    assert funding_status(*mixed_with_default) == "partially_disbursed"


# --- properties -----------------------------------------------------------------------------

xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Cn")), min_size=1, max_size=40)
money = st.decimals(
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=60, deadline=None, database=None)
@given(
    titles=st.dictionaries(st.sampled_from(["en", "es", "qu"]), xml_text, min_size=1),
    org_name=xml_text,
    value=money,
    percentage=st.decimals(min_value=0, max_value=100, places=3),
    # Hypothesis takes naive bounds and adds the zone from ``timezones``.
    updated=st.datetimes(
        min_value=datetime(1990, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    target=st.one_of(st.none(), xml_text),
)
def test_round_trip_property(
    titles: dict[str, str],
    org_name: str,
    value: Decimal,
    percentage: Decimal,
    updated: datetime,
    target: str | None,
) -> None:
    base = full()
    indicator = dataclasses.replace(
        base.results[0].indicators[0],
        periods=(iati.IatiPeriod(date(2017, 1, 1), date(2017, 12, 31), target=target),),
    )
    activity = dataclasses.replace(
        base,
        titles=titles,
        last_updated=updated,
        reporting_org=dataclasses.replace(MINAM, name=org_name),
        sectors=(iati.IatiSector("41010", percentage), iati.IatiSector("41020", 100 - percentage)),
        budgets=(dataclasses.replace(base.budgets[0], value=value),),
        results=(dataclasses.replace(base.results[0], indicators=(indicator,)),),
    )
    xml = document(activity)
    assert parse_activities(xml) == [activity]
    assert schema_errors(xml) == []
    assert ruleset_errors(activity, TODAY) == []


@settings(max_examples=100, deadline=None, database=None)
@given(
    parts=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8),
    nudge=st.sampled_from([Decimal("-0.01"), Decimal(0), Decimal("0.01")]),
)
def test_sector_split_property(parts: list[int], nudge: Decimal) -> None:
    """Any split of 100 into shares passes; moving one share by a cent fails."""
    total = sum(parts)
    shares = [(Decimal(100) * p / total).quantize(Decimal("0.01")) for p in parts]
    shares[-1] += Decimal(100) - sum(shares) + nudge
    sectors = tuple(iati.IatiSector(f"410{n:02d}", share) for n, share in enumerate(shares))
    errors = ruleset_errors(minimal(sectors=sectors), TODAY)
    assert (errors == []) == (nudge == 0)


@settings(max_examples=100, deadline=None, database=None)
@given(committed=money.filter(lambda v: v > 0), spent=money.filter(lambda v: v > 0))
def test_funding_status_property(committed: Decimal, spent: Decimal) -> None:
    status = funding_status([], [transaction("2", str(committed)), transaction("3", str(spent))])
    assert status == ("disbursed" if spent >= committed else "partially_disbursed")
