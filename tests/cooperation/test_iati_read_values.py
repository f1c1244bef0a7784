"""The reader takes every value as the 2.03 schema's types allow it (pure functions: no app,
no database); it refuses only what Enlace cannot hold, naming the line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.cooperation import iati
from services.cooperation.iati import parse_activities, schema_errors, write_activities


def one(**attributes: str) -> bytes:
    """A valid activities file with one activity; its date, value and percentage given."""
    values = {
        "stamp": "",
        "hierarchy": "",
        "date": "2020-01-01",
        "value": "100",
        "percentage": "100",
        "year": "2019",
    } | attributes
    stamp = f' last-updated-datetime="{values["stamp"]}"' if values["stamp"] else ""
    hierarchy = f' hierarchy="{values["hierarchy"]}"' if values["hierarchy"] else ""
    return f"""<iati-activities version="2.03">
<iati-activity{stamp}{hierarchy}>
<iati-identifier>XM-1-A</iati-identifier>
<reporting-org ref="XM-1" type="10"><narrative>X</narrative></reporting-org>
<title><narrative>T</narrative></title>
<description><narrative/></description>
<participating-org role="1"/>
<activity-status code="2"/>
<activity-date type="1" iso-date="{values["date"]}"/>
<sector code="41010" percentage="{values["percentage"]}"/>
<budget><period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/>
<value value-date="2020-01-01">{values["value"]}</value></budget>
<result type="1"><title><narrative>R</narrative></title>
<indicator measure="1"><title><narrative>I</narrative></title>
<baseline year="{values["year"]}"/></indicator></result>
</iati-activity>
</iati-activities>
""".encode()


def read(xml: bytes) -> iati.IatiActivity:
    assert schema_errors(xml) == []
    (activity,) = parse_activities(xml)
    return activity


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("", None),
        ("2020-01-01T10:00:00", datetime(2020, 1, 1, 10, tzinfo=UTC)),  # no offset: UTC
        ("2020-01-01T10:00:00Z", datetime(2020, 1, 1, 10, tzinfo=UTC)),
        (
            "2020-01-01T10:00:00-05:00",
            datetime(2020, 1, 1, 10, tzinfo=timezone(timedelta(hours=-5))),
        ),
        ("2020-01-01T10:00:00.123456789Z", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2019-12-31T24:00:00Z", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_last_updated_is_optional_and_read_as_xsd_datetime(
    stamp: str, expected: datetime | None
) -> None:
    assert read(one(stamp=stamp)).last_updated == expected


@pytest.mark.parametrize(
    "text", ["2020-01-01", "2020-01-01Z", "2020-01-01+05:00", "2020-01-01-12:00"]
)
def test_a_date_with_a_timezone_is_its_day(text: str) -> None:
    assert read(one(date=text)).dates[0].iso_date == date(2020, 1, 1)


@pytest.mark.parametrize(
    ("value", "percentage"),
    [
        ("1000.125", "33.333"),
        ("1000000000000000", "70.9999"),
        ("123456789012345678901234567890.123456789", "0.0001"),
        ("+.5", "100."),
        ("-0.001", "00100"),
    ],
)
def test_decimals_are_read_exactly_at_any_scale(value: str, percentage: str) -> None:
    activity = read(one(value=value, percentage=percentage))
    assert activity.budgets[0].value == Decimal(value)
    assert str(activity.budgets[0].value) == str(Decimal(value))
    assert activity.sectors[0].percentage == Decimal(percentage)


@pytest.mark.parametrize("hierarchy", ["0", "-1", "+3", "2147483647", "-2147483648"])
def test_any_xsd_int_hierarchy_reads_and_writes_back_as_sent(hierarchy: str) -> None:
    activity = read(one(hierarchy=hierarchy))
    assert activity.hierarchy == int(hierarchy)
    written = b"".join(write_activities([activity], generated=datetime(2026, 1, 1, tzinfo=UTC)))
    assert schema_errors(written) == []
    assert parse_activities(written) == [activity]


def test_no_hierarchy_and_no_timestamp_stay_out_of_the_written_file() -> None:
    activity = read(one())
    assert (activity.hierarchy, activity.last_updated) == (None, None)
    written = b"".join(write_activities([activity], generated=datetime(2026, 1, 1, tzinfo=UTC)))
    assert b"hierarchy=" not in written
    assert b"last-updated-datetime" not in written
    assert schema_errors(written) == []
    # An empty narrative is still a narrative: the description stays (the schema needs one).
    assert parse_activities(written)[0].descriptions == {"en": ""}


@pytest.mark.parametrize(
    ("values", "why"),
    [
        ({"date": "10000-01-01"}, "years 1 to 9999"),
        ({"value": "1" * 61}, "more than 60 digits"),
        ({"value": "0." + "0" * 60 + "1"}, "more than 60 digits"),
        ({"year": "99999999999"}, "too large"),
    ],
)
def test_what_cannot_be_held_is_refused_with_its_line(values: dict[str, str], why: str) -> None:
    xml = one(**values)
    assert schema_errors(xml) == []  # valid IATI: the limit is Enlace's
    with pytest.raises(iati.IatiParseError, match=why) as refused:
        parse_activities(xml)
    assert refused.value.line > 1
