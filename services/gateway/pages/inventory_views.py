"""The country view's inventory parts drawn from the public API: the PCB elimination curve
against the deadlines, a tile map of PCB equipment per department, and the national action
plans' targets with their status. Plain functions that turn the API's JSON into what the
templates draw (inline SVG, with a table and a text alternative for each chart)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.gateway.pages.charts import fmt, number

# Each department (UBIGEO code) on a grid that keeps Peru's shape: column, row (north up).
TILES: dict[str, tuple[int, int]] = {
    "24": (0, 0),  # Tumbes
    "20": (0, 1),  # Piura
    "01": (1, 1),  # Amazonas
    "16": (2, 1),  # Loreto
    "14": (0, 2),  # Lambayeque
    "06": (1, 2),  # Cajamarca
    "22": (2, 2),  # San Martín
    "13": (1, 3),  # La Libertad
    "10": (2, 3),  # Huánuco
    "25": (3, 3),  # Ucayali
    "02": (1, 4),  # Áncash
    "19": (2, 4),  # Pasco
    "12": (3, 4),  # Junín
    "07": (1, 5),  # Callao
    "15": (2, 5),  # Lima
    "09": (3, 5),  # Huancavelica
    "08": (4, 5),  # Cusco
    "17": (5, 5),  # Madre de Dios
    "11": (2, 6),  # Ica
    "05": (3, 6),  # Ayacucho
    "03": (4, 6),  # Apurímac
    "21": (5, 6),  # Puno
    "04": (3, 7),  # Arequipa
    "18": (4, 7),  # Moquegua
    "23": (5, 7),  # Tacna
}
TILE_W, TILE_H, GAP = 96, 58, 4
LEVELS = 5  # shades of the map, 0 (none) to 4 (most)

STATUS = {
    "es": {
        "on_track": "En camino",
        "at_risk": "En riesgo",
        "off_track": "Desviado",
        "no_data": "Sin datos",
    },
    "en": {
        "on_track": "On track",
        "at_risk": "At risk",
        "off_track": "Off track",
        "no_data": "No data",
    },
}


@dataclass(frozen=True)
class Tile:
    x: int
    y: int
    code: str
    name: str
    count: int
    level: int


def map_view(departments: Any) -> dict[str, Any] | None:
    """Tiles of PCB items (PCB classes) per department, shaded by count."""
    if not isinstance(departments, dict):
        return None
    counts: dict[str, tuple[str, int]] = {}
    for dep in departments.get("departments", []):
        code = str(dep.get("department_code") or "")
        items = int(number(dep.get("pcb", {}).get("pcb_items")) or 0)
        counts[code] = (str(dep.get("department_name") or code), items)
    most = max((n for _, n in counts.values()), default=0)
    tiles = []
    for code, (column, row) in TILES.items():
        name, count = counts.get(code, (code, 0))
        level = 0 if count == 0 or most == 0 else max(1, round(count / most * (LEVELS - 1)))
        tiles.append(Tile(column * (TILE_W + GAP), row * (TILE_H + GAP), code, name, count, level))
    counted = [t for t in tiles if t.count]
    return {
        "tiles": tiles,
        "width": 6 * (TILE_W + GAP),
        "height": 8 * (TILE_H + GAP),
        "tile_w": TILE_W,
        "tile_h": TILE_H,
        "listed": counted,
        "alt": "; ".join(f"{t.name}: {t.count}" for t in sorted(counted, key=lambda t: -t.count)),
    }


def curve_view(curve: Any, lang: str, texts: dict[str, str]) -> dict[str, Any] | None:
    """Columns per year: PCB items in use and eliminated (cumulative), with the deadlines."""
    if not isinstance(curve, dict) or not curve.get("years"):
        return None
    deadlines = {
        kind: int(str(d["deadline"])[:4])
        for kind, d in (curve.get("deadlines") or {}).items()
        if isinstance(d, dict) and d.get("deadline")
    }
    years = [y["year"] for y in curve["years"]]
    # The axis reaches both deadlines, whatever years have data.
    axis = list(range(min([*years, *deadlines.values()]), max([*years, *deadlines.values()]) + 1))
    by_year = {y["year"]: y for y in curve["years"]}
    in_use = {y: by_year[y]["in_use"]["total"]["items"] for y in by_year}
    eliminated = {y: by_year[y]["eliminated_cumulative"]["total"]["items"] for y in by_year}
    top = max([*in_use.values(), *eliminated.values(), 1])
    width, height, left, bottom = 640, 240, 36, 30
    step = (width - left) / len(axis)
    bar = max(4.0, step / 2 - 3)
    scale = (height - bottom - 10) / top
    columns = []
    for i, year in enumerate(axis):
        x = left + i * step + 2
        pair = []
        for kind, values in (("use", in_use), ("elim", eliminated)):
            if year in values:
                h = values[year] * scale
                pair.append(
                    {"x": x, "y": height - bottom - h, "h": h, "cls": kind, "n": values[year]}
                )
            x += bar
        columns.append({"year": year, "x": left + i * step + step / 2, "bars": pair, "w": bar})
    markers = [
        {
            "x": left + axis.index(year) * step + step - 1,
            "label": texts[f"deadline_{kind}"],
            "year": year,
        }
        for kind, year in sorted(deadlines.items(), key=lambda kv: kv[1])
        if year in axis
    ]
    projection = curve.get("projection") or {}
    projected = projection.get("projected_year_last_removed")
    rate = number(projection.get("rate_items_per_year"))
    if projected is not None:
        outlook = texts["projection"].format(year=projected, rate=fmt(rate or Decimal(0), lang, 1))
    else:
        outlook = texts[f"projection_{projection.get('status', 'no_data')}"]
    rows = [(y, in_use.get(y), eliminated.get(y)) for y in years]
    alt = (
        texts["curve_alt"]
        + " "
        + "; ".join(f"{y}: {texts['in_use']} {u}, {texts['eliminated']} {e}" for y, u, e in rows)
    )
    return {
        "columns": columns,
        "markers": markers,
        "width": width,
        "height": height,
        "base": height - bottom,
        "outlook": outlook,
        "rows": rows,
        "alt": alt,
    }


def plans_view(plans: list[Any], lang: str) -> list[dict[str, Any]]:
    """Each plan with its targets: indicator, baseline, latest actual, final target, status."""
    out = []
    for plan in plans:
        if not isinstance(plan, dict):
            continue
        targets = []
        for target in plan.get("targets", []):
            final = max(target.get("target_values", []), key=lambda p: p["year"], default=None)
            actual = target.get("actual") or {}
            status = str(target.get("status", "no_data"))
            targets.append(
                {
                    "indicator": target.get(f"indicator_{lang}") or target.get("indicator_en"),
                    "unit": target.get("unit", ""),
                    "baseline": _point(target.get("baseline"), lang),
                    "actual": _point(actual, lang) if actual else "—",
                    "target": _point(final, lang) if final else "—",
                    "status": status,
                    "status_label": STATUS[lang].get(status, status),
                }
            )
        out.append({"title": plan.get(f"title_{lang}") or plan.get("title_en"), "targets": targets})
    return out


def _point(point: Any, lang: str) -> str:
    if not isinstance(point, dict) or point.get("value") is None:
        return "—"
    value = number(point["value"]) or Decimal(0)
    places = 0 if value == value.to_integral_value() else 2
    return f"{fmt(value, lang, places)} ({point.get('year')})"
