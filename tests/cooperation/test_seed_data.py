"""Seed data of the cooperation service: the 2015-2018 work program, organisations and demo
activities. The demo activities must become valid IATI (schema and ruleset)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from services.cooperation import iati
from services.cooperation.iati import (
    funding_status,
    parse_activities,
    ruleset_errors,
    schema_errors,
    write_activities,
)
from services.cooperation.iati.ruleset import registered_org_ids
from services.cooperation.iati.validate import SCHEMA_DIR

DATA = Path(__file__).resolve().parents[2] / "services" / "cooperation" / "data"
TODAY = date(2026, 11, 22)
UPDATED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# Objectives and action areas per priority area, counted in the work program text.
COUNTS = {"A": (4, 4), "B": (6, 5), "C": (3, 3), "D": (5, 5), "E": (1, 3)}
# INEI department codes (ubigeo, first two digits).
DEPARTMENTS = {
    "01": "Amazonas", "02": "Áncash", "03": "Apurímac", "04": "Arequipa", "05": "Ayacucho",
    "06": "Cajamarca", "07": "Callao", "08": "Cusco", "09": "Huancavelica", "10": "Huánuco",
    "11": "Ica", "12": "Junín", "13": "La Libertad", "14": "Lambayeque", "15": "Lima",
    "16": "Loreto", "17": "Madre de Dios", "18": "Moquegua", "19": "Pasco", "20": "Piura",
    "21": "Puno", "22": "San Martín", "23": "Tacna", "24": "Tumbes", "25": "Ucayali",
}  # fmt: skip


def load(name: str) -> Any:
    # Decimal, never float, for percentages and money read from the seed files.
    return json.loads((DATA / name).read_text(encoding="utf-8"), parse_float=Decimal)


@cache
def codes(codelist: str) -> frozenset[str]:
    root = etree.parse(str(SCHEMA_DIR / "codelists" / f"{codelist}.xml"))
    return frozenset(str(c) for c in root.xpath("//codelist-item/code/text()"))


PROGRAM = load("work_program_2015_2018.json")
ORGS = {o["code"]: o for o in load("organisations.json")}
DEMO = load("demo_activities.json")
ACTIVITIES = DEMO["activities"]
ACTION_AREAS = {
    (area["code"], a["number"]) for area in PROGRAM["priority_areas"] for a in area["action_areas"]
}


def ruc_is_valid(ruc: str) -> bool:
    weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    check = 11 - sum(int(d) * w for d, w in zip(ruc[:10], weights, strict=True)) % 11
    return len(ruc) == 11 and ruc.isdigit() and int(ruc[10]) == {10: 0, 11: 1}.get(check, check)


# --- work program -----------------------------------------------------------------------------


def test_work_program_header() -> None:
    assert PROGRAM["code"] == "US-PE-ECWP-2015-2018"
    assert (PROGRAM["agreement_signed_on"], PROGRAM["agreement_in_force_on"]) == (
        "2006-07-24",
        "2009-08-23",
    )
    assert (PROGRAM["period_start"], PROGRAM["period_end"]) == ("2015-01-01", "2018-12-31")
    assert PROGRAM["title_es"]
    assert "July 24, 2006" in PROGRAM["background_en"]
    assert "performance tracking" in PROGRAM["benchmarks_en"]


def test_work_program_has_every_goal_area_objective_and_action_area() -> None:
    assert [g["code"] for g in PROGRAM["goals"]] == list("ABCDE")
    areas = PROGRAM["priority_areas"]
    assert [a["code"] for a in areas] == list("ABCDE")
    for area in areas:
        objectives, actions = COUNTS[area["code"]]
        assert [o["number"] for o in area["objectives"]] == list(range(1, objectives + 1))
        assert [a["number"] for a in area["action_areas"]] == list(range(1, actions + 1))


def test_work_program_text_is_clean() -> None:
    """No PDF artefacts left: bullets, double spaces, hyphenation breaks, stray spaces."""
    texts: list[str] = [
        PROGRAM["background_en"],
        PROGRAM["benchmarks_en"],
        *(g["text_en"] for g in PROGRAM["goals"]),
    ]
    for area in PROGRAM["priority_areas"]:
        texts += [area["title_en"], area["objectives_en"]]
        texts += [o["text_en"] for o in area["objectives"]]
        texts += [a["text_en"] for a in area["action_areas"]]
        # Each objective is a piece of the objectives paragraph, word for word.
        assert all(o["text_en"] in area["objectives_en"] for o in area["objectives"])
    for text in texts:
        assert text == text.strip()
        assert not re.search(r"  |\uf0b7| ,|- \w", text), text


def _english_keys(node: Any, path: str = "") -> list[tuple[str, dict[str, Any], str]]:
    """Every ``*_en`` key of the program data with the object that holds it."""
    found: list[tuple[str, dict[str, Any], str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("_en"):
                found.append((f"{path}{key}", node, key))
            found += _english_keys(value, f"{path}{key}.")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found += _english_keys(item, f"{path}{i}.")
    return found


def test_work_program_has_spanish_beside_every_english_text() -> None:
    """Each English text has a Spanish sibling, clean, not a copy; the objectives stay
    pieces of their paragraph; the data says whose translation it is."""
    keys = _english_keys(PROGRAM)
    assert len(keys) == 6 + 5 + 5 * 2 + 19 + 20
    for where, node, key in keys:
        spanish = node.get(key.removesuffix("_en") + "_es")
        assert spanish, where
        assert spanish != node[key], where
        assert spanish == spanish.strip(), where
        assert not re.search(r"  | ,|- \w", spanish), where
    for area in PROGRAM["priority_areas"]:
        assert all(o["text_es"] in area["objectives_es"] for o in area["objectives"])
    assert PROGRAM["translation_es"].startswith("Traducción al español de Enlace (no oficial)")


# --- organisations ----------------------------------------------------------------------------


def test_organisations() -> None:
    assert {"MINAM", "OEFA", "PRODUCE", "EPA", "USAID", "UNEP", "GEF", "MINAMATA"} <= set(ORGS)
    assert len({o["iati_ref"] for o in ORGS.values()}) == len(ORGS)
    assert ORGS["USAID"]["iati_ref"] == "US-GOV-1"
    for org in ORGS.values():
        assert org["iati_type"] in codes("OrganisationType")
        assert org["name_es"]
        assert org["name_en"]
        assert (org["country"] is None) == (org["iati_type"] == "40"), org["code"]
        ref = org["iati_ref"]
        if ref.startswith("PE-RUC-"):
            assert ruc_is_valid(ref.removeprefix("PE-RUC-")), ref
        elif ref.startswith("PE-ENLACE-"):
            assert org["note"], f"{org['code']}: a local ref must say why"
        else:  # registered on the IATI Registry, or a DAC channel code
            assert ref in registered_org_ids() or ref.startswith("XM-DAC-"), ref


# --- demo activities --------------------------------------------------------------------------


def test_demo_activities_are_consistent() -> None:
    assert "illustrative" in DEMO["note"].lower()
    assert DEMO["work_program"] == PROGRAM["code"]
    assert len(ACTIVITIES) >= 12
    assert len({a["own_id"] for a in ACTIVITIES}) == len(ACTIVITIES)
    for a in ACTIVITIES:
        where = a["own_id"]
        assert sum(s["percentage"] for s in a["sectors"]) == 100, where
        assert {s["code"] for s in a["sectors"]} <= codes("Sector"), where
        assert {p["code"] for p in a["policy_markers"]} <= codes("PolicyMarker"), where
        assert {tuple(x) for x in a["action_areas"]} <= ACTION_AREAS, where
        assert {x[0] for x in a["action_areas"]} <= set(a["priority_areas"]), where
        orgs = {a["lead_org"]} | {p["org"] for p in a["participants"]}
        orgs |= {t[k] for t in a["transactions"] for k in ("provider_org", "receiver_org")}
        assert orgs <= set(ORGS), where
        assert a["lead_org"] in {p["org"] for p in a["participants"]}, where
        assert {p["role"] for p in a["participants"]} <= {1, 2, 3, 4}, where
        assert 1 <= a["status"] <= 6, where
        assert set(a["locations"]) <= set(DEPARTMENTS), where
        assert a["visibility"] in {"public", "partners", "participants"}, where
        assert a["results"], where
        for actual in (a["actual_start"], a["actual_end"]):
            assert actual is None or date.fromisoformat(actual) <= TODAY, where


def test_demo_money_is_decimal_text() -> None:
    for a in ACTIVITIES:
        for item in (*a["budgets"], *a["transactions"]):
            assert isinstance(item["value"], str)
            assert re.fullmatch(r"\d+\.\d{2}", item["value"]), item


def org_ref(code: str) -> iati.IatiOrganisationRef:
    org = ORGS[code]
    return iati.IatiOrganisationRef(ref=org["iati_ref"], name=org["name_en"], type=org["iati_type"])


def program_identifier() -> str:
    return f"{ORGS['MINAM']['iati_ref']}-{PROGRAM['code']}"


def participant(p: dict[str, Any]) -> iati.IatiParticipatingOrg:
    org = org_ref(p["org"])
    return iati.IatiParticipatingOrg(str(p["role"]), org.ref, org.name, org.type)


def result(r: dict[str, Any]) -> iati.IatiResult:
    day = date.fromisoformat
    indicators = tuple(
        iati.IatiIndicator(
            i["measure"],
            i["title_en"],
            i["ascending"],
            iati.IatiBaseline(i["baseline"]["year"], i["baseline"]["value"]),
            tuple(
                iati.IatiPeriod(day(p["start"]), day(p["end"]), p["target"], p["actual"])
                for p in i["periods"]
            ),
        )
        for i in r["indicators"]
    )
    return iati.IatiResult(r["type"], r["title_en"], indicators)


def to_iati(a: dict[str, Any]) -> iati.IatiActivity:
    """A demo activity as the service would publish it (reported by its lead organisation)."""
    lead = org_ref(a["lead_org"])
    day = date.fromisoformat
    date_keys = {"1": "planned_start", "2": "actual_start", "3": "planned_end", "4": "actual_end"}
    titles = {area["code"]: area["title_en"] for area in PROGRAM["priority_areas"]}
    tags = [iati.IatiTag(f"PA-{code}", titles[code]) for code in a["priority_areas"]]
    tags += [iati.IatiTag(f"PA-{c}-AA{n}", f"Action area {c}.{n}") for c, n in a["action_areas"]]
    return iati.IatiActivity(
        identifier=f"{lead.ref}-{a['own_id']}",
        reporting_org=lead,
        last_updated=UPDATED,
        titles={"en": a["title_en"], "es": a["title_es"]},
        descriptions={"en": a["description_en"], "es": a["description_es"]},
        participating_orgs=tuple(participant(p) for p in a["participants"]),
        status=str(a["status"]),
        dates=tuple(iati.IatiActivityDate(t, day(a[k])) for t, k in date_keys.items() if a[k]),
        default_currency="USD",
        locations=tuple(iati.IatiLocation(DEPARTMENTS[c], c) for c in a["locations"]),
        sectors=tuple(iati.IatiSector(s["code"], Decimal(s["percentage"])) for s in a["sectors"]),
        tags=tuple(tags),
        policy_markers=tuple(
            iati.IatiPolicyMarker(m["code"], m["significance"]) for m in a["policy_markers"]
        ),
        budgets=tuple(
            iati.IatiBudget(
                day(b["period_start"]),
                day(b["period_end"]),
                Decimal(b["value"]),
                day(b["value_date"]),
                currency=b["currency"],
                type=b["type"],
                status=b["status"],
            )
            for b in a["budgets"]
        ),
        transactions=tuple(
            iati.IatiTransaction(
                t["type"],
                day(t["date"]),
                Decimal(t["value"]),
                value_date=day(t["date"]),
                currency=t["currency"],
                provider_org=org_ref(t["provider_org"]),
                receiver_org=org_ref(t["receiver_org"]),
            )
            for t in a["transactions"]
        ),
        related_activities=(iati.IatiRelatedActivity(program_identifier(), "1"),),
        results=tuple(result(r) for r in a["results"]),
    )


def program_activity(children: list[iati.IatiActivity]) -> iati.IatiActivity:
    minam = org_ref("MINAM")
    return iati.IatiActivity(
        identifier=program_identifier(),
        reporting_org=minam,
        last_updated=UPDATED,
        hierarchy=1,
        titles={"en": PROGRAM["title_en"], "es": PROGRAM["title_es"]},
        descriptions={"en": PROGRAM["preamble_en"]},
        participating_orgs=(iati.IatiParticipatingOrg("2", minam.ref, minam.name, minam.type),),
        status="4",
        dates=(
            iati.IatiActivityDate("1", date.fromisoformat(PROGRAM["period_start"])),
            iati.IatiActivityDate("3", date.fromisoformat(PROGRAM["period_end"])),
        ),
        tags=tuple(iati.IatiTag(f"GOAL-{g['code']}", g["text_en"]) for g in PROGRAM["goals"]),
        related_activities=tuple(iati.IatiRelatedActivity(c.identifier, "2") for c in children),
    )


@pytest.mark.parametrize("activity", ACTIVITIES, ids=[a["own_id"] for a in ACTIVITIES])
def test_demo_activity_is_valid_iati(activity: dict[str, Any]) -> None:
    iati = to_iati(activity)
    xml = b"".join(write_activities([iati], generated=UPDATED))
    assert schema_errors(xml) == []
    assert ruleset_errors(iati, TODAY) == []
    assert parse_activities(xml) == [iati]
    assert funding_status(iati.budgets, iati.transactions) != "none"


def test_program_with_all_demo_activities_is_one_valid_document() -> None:
    children = [to_iati(a) for a in ACTIVITIES]
    activities = [program_activity(children), *children]
    xml = b"".join(write_activities(activities, generated=UPDATED))
    assert schema_errors(xml) == []
    assert ruleset_errors(activities[0], TODAY) == []
    assert parse_activities(xml) == activities
