"""Public transparency pages, server-rendered by the gateway from the services' public API
only (the same answers anyone gets without a token), in Spanish or English, with charts as
inline SVG and a data table beside each: no script, no CDN, nothing loaded from elsewhere.

- ``GET /public``: the country view: PCB equipment by class and department against the
  Convention's deadlines, UP-POPs releases by source group, mercury releases by category
  and pathway, the public activities and each work program's matrix with its coverage gaps;
- ``GET /public/activities/{identifier}``: one public activity: status, dates,
  participants, money committed and spent, indicators against their targets.

A part whose figures cannot be fetched says so; the rest of the page still shows.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.gateway.pages.charts import bars, fmt, number, summary
from services.gateway.pages.inventory_views import curve_view, map_view, plans_view
from services.gateway.pages.texts import TEXT
from shared.i18n import negotiate

log = logging.getLogger("enlace.gateway.pages")
router = APIRouter(include_in_schema=False)
HERE = Path(__file__).resolve().parent
ASSETS = "/public/assets"
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
Lang = Annotated[Literal["es", "en"] | None, Query()]
AcceptLanguage = Annotated[str | None, Header(max_length=1000)]
FETCH_TIMEOUT_S = 10.0


def mount_page_assets(app: Any) -> None:
    app.mount(ASSETS, StaticFiles(directory=HERE / "static"), name="public-assets")


async def _get(request: Request, service: str, path: str, **params: Any) -> Any:
    """The JSON of a public route of ``service``; None when it cannot be had."""
    clients: dict[str, httpx.AsyncClient] = request.app.state.clients
    try:
        answer = await clients[service].get(path, params=params, timeout=FETCH_TIMEOUT_S)
    except (httpx.HTTPError, KeyError) as exc:
        log.warning("public page: %s%s unavailable: %s", service, path, type(exc).__name__)
        return None
    if answer.status_code != 200:
        return None
    return answer.json()


def _labels(terms: Any, lang: str) -> dict[str, str]:
    """Code -> label in ``lang`` from a vocabulary (list of terms, or an object with them)."""
    if isinstance(terms, dict):
        terms = terms.get("terms", [])
    out: dict[str, str] = {}
    for term in terms or []:
        if isinstance(term, dict) and "code" in term:
            out[str(term["code"])] = str(term.get(lang) or term.get("en") or term["code"])
    return out


def _page(template: str, lang: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    other = "en" if lang == "es" else "es"
    html = TEMPLATES.get_template(template).render(
        t=TEXT[lang], lang=lang, other=other, assets=ASSETS, nonce=nonce, **context
    )
    return HTMLResponse(
        html,
        status_code=http_status,
        headers={
            "Content-Language": lang,
            "Vary": "Accept-Language",
            "Cache-Control": "public, max-age=60",
            "Content-Security-Policy": (
                "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
        },
    )


# --- the country view ---------------------------------------------------------------------


def _pcb_view(summary_: Any, departments: Any, vocab: Any, lang: str) -> dict[str, Any] | None:
    if not isinstance(summary_, dict) or "pcb" not in summary_:
        return None
    pcb = summary_["pcb"]
    classes = _labels(vocab.get("pcb_class") if isinstance(vocab, dict) else None, lang)
    by_class = bars(
        [(classes.get(c, c), v.get("items")) for c, v in pcb.get("by_class", {}).items()], lang
    )
    rows = []
    for dep in (departments or {}).get("departments", []):
        dep_pcb = dep.get("pcb", {})
        name = dep.get("department_name") or dep.get("department_code") or "—"
        rows.append((str(name), dep_pcb))
    rows.sort(key=lambda r: -(number(r[1].get("pcb_items")) or Decimal(0)))
    by_department = bars([(name, p.get("pcb_items")) for name, p in rows], lang)
    deadlines = pcb.get("deadlines", {})
    share = (number(pcb.get("share_eliminated")) or Decimal(0)) * 100
    t = TEXT[lang]
    return {
        "year": summary_.get("year"),
        "intro": t["pcb_intro"].format(
            year=summary_.get("year"),
            items=pcb.get("items", 0),
            pcb_items=pcb.get("pcb_items", 0),
            eliminated=pcb.get("pcb_items_eliminated", 0),
            share=fmt(share, lang, 1),
        ),
        "deadlines": t["deadlines"].format(
            use=deadlines.get("use", {}).get("deadline", "2025-12-31"),
            use_overdue=deadlines.get("use", {}).get("items_overdue", 0),
            esm=deadlines.get("esm", {}).get("deadline", "2028-12-31"),
            esm_due=deadlines.get("esm", {}).get("items_due", 0),
        ),
        "by_class": by_class,
        "by_class_alt": summary(t["by_class"], by_class),
        "by_department": by_department,
        "by_department_alt": summary(t["by_department"], by_department),
        "department_rows": [
            (name, p.get("pcb_items", 0), p.get("total_mass_t")) for name, p in rows
        ],
    }


def _upops_view(summary_: Any, vocab: Any, lang: str) -> list[dict[str, Any]]:
    groups = _labels(vocab.get("upops_source_group") if isinstance(vocab, dict) else None, lang)
    out = []
    upops = summary_.get("upops") if isinstance(summary_, dict) else None
    for total in (upops or {}).get("totals", []):
        rows, nd = [], 0
        for group, vectors in sorted(total.get("by_source_group", {}).items(), key=_code_key):
            determined = [number(v.get("release")) for v in vectors.values()]
            nd += sum(int(v.get("not_determined_parts") or 0) for v in vectors.values())
            value = sum((d for d in determined if d is not None), Decimal(0))
            rows.append((f"{group}. {groups.get(group, group)}", value))
        chart = bars(rows, lang, places=3, unit=total.get("unit", ""))
        title = f"{total.get('pollutant', '').upper().replace('_', '/')} ({total.get('label')})"
        out.append(
            {
                "title": title,
                "bars": chart,
                "alt": summary(title, chart),
                "not_determined": TEXT[lang]["not_determined"].format(parts=nd) if nd else "",
            }
        )
    return out


def _code_key(item: tuple[str, Any]) -> tuple[int, str]:
    code = item[0]
    return (int(code), code) if code.isdigit() else (10**6, code)


def _mercury_view(summary_: Any, vocab: Any, lang: str) -> dict[str, Any] | None:
    mercury = summary_.get("mercury") if isinstance(summary_, dict) else None
    if not mercury or not mercury.get("category_totals_kg_per_year"):
        return None
    vocab = vocab if isinstance(vocab, dict) else {}
    categories = _labels(vocab.get("mercury_category"), lang)
    pathways = _labels(vocab.get("mercury_pathway"), lang)
    t = TEXT[lang]
    by_category = bars(
        [(categories.get(c, c), v) for c, v in mercury["category_totals_kg_per_year"].items()],
        lang,
        places=1,
        unit="kg",
    )
    by_pathway = bars(
        [(pathways.get(p, p), v) for p, v in mercury.get("by_pathway", {}).items()],
        lang,
        places=1,
        unit="kg",
    )
    return {
        "by_category": by_category,
        "by_category_alt": summary(t["by_category"], by_category),
        "by_pathway": by_pathway,
        "by_pathway_alt": summary(t["by_pathway"], by_pathway),
    }


def _matrix_view(matrix: Any, statuses: dict[str, str], lang: str) -> dict[str, Any]:
    codes = sorted(matrix.get("statuses", {}), key=lambda c: (len(c), c))
    rows = []
    for area in matrix.get("priority_areas", []):
        cells = [area.get("by_status", {}).get(c, {}).get("activities", 0) for c in codes]
        total = area.get("total", {}).get("activities", 0)
        rows.append(
            {
                "code": area["code"],
                "title": area.get(f"title_{lang}") or area.get("title_en", ""),
                "cells": cells,
                "total": total,
                "gap": total == 0,
            }
        )
    return {
        "program": matrix.get("program"),
        "statuses": [statuses.get(c, matrix["statuses"].get(c, c)) for c in codes],
        "rows": rows,
        "gaps": matrix.get("coverage_gaps", []),
    }


@router.get("/public")
async def country(
    request: Request, lang: Lang = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The country view."""
    chosen = negotiate(accept_language, lang)
    summary_, departments, vocab, activities, status_vocab, curve, plans = await asyncio.gather(
        _get(request, "inventory", "/v1/public/national-summary"),
        _get(request, "inventory", "/v1/public/by-department"),
        _get(request, "inventory", "/v1/public/vocabularies"),
        _get(request, "cooperation", "/v1/public/activities", limit=200),
        _get(request, "cooperation", "/v1/public/vocabularies/activity-status"),
        _get(request, "inventory", "/v1/public/pcb-curve"),
        _get(request, "inventory", "/v1/public/plans", limit=20),
    )
    plan_details = await asyncio.gather(
        *(
            _get(request, "inventory", f"/v1/public/plans/{p['id']}")
            for p in (plans or {}).get("items", [])
        )
    )
    statuses = _labels(status_vocab, chosen)
    items = (activities or {}).get("items", [])
    programs = sorted({a["program"] for a in items if a.get("program")})
    matrices = await asyncio.gather(
        *(_get(request, "cooperation", "/v1/public/matrix", program=p) for p in programs)
    )
    return _page(
        "country.html",
        chosen,
        pcb=_pcb_view(summary_, departments, vocab, chosen),
        upops=_upops_view(summary_, vocab, chosen),
        upops_known=isinstance(summary_, dict),
        mercury=_mercury_view(summary_, vocab, chosen),
        curve=curve_view(curve, chosen, TEXT[chosen]),
        pcb_map=map_view(departments),
        plans=plans_view(list(plan_details), chosen),
        plans_known=plans is not None,
        activities=[
            {
                "href": f"/public/activities/{quote(a['identifier'], safe='')}?lang={chosen}",
                "title": a.get(f"title_{chosen}") or a.get("title_en") or a["identifier"],
                "status": statuses.get(str(a.get("status")), str(a.get("status"))),
                "lead": a.get("lead_org") or "",
            }
            for a in items
        ],
        activities_known=activities is not None,
        matrices=[_matrix_view(m, statuses, chosen) for m in matrices if isinstance(m, dict)],
    )


# --- one activity -------------------------------------------------------------------------

COMMITMENT, DISBURSEMENT, EXPENDITURE = "2", "3", "4"


def _money_view(activity: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """Budget, committed, disbursed and spent, in the activity's currency (others apart)."""
    currency = activity.get("default_currency") or "USD"
    sums: dict[str, Decimal] = {}
    for budget in activity.get("budgets", []):
        if (budget.get("currency") or currency) == currency:
            sums["budget"] = sums.get("budget", Decimal(0)) + (number(budget.get("value")) or 0)
    kinds = {COMMITMENT: "committed", DISBURSEMENT: "disbursed", EXPENDITURE: "spent"}
    for tx in activity.get("transactions", []):
        kind = kinds.get(str(tx.get("type")))
        if kind and (tx.get("currency") or currency) == currency:
            sums[kind] = sums.get(kind, Decimal(0)) + (number(tx.get("value")) or 0)
    if not sums:
        return None
    t = TEXT[lang]
    order = ["budget", "committed", "disbursed", "spent"]
    chart = bars([(t[k], sums[k]) for k in order if k in sums], lang, places=0, unit=currency)
    return {"bars": chart, "alt": summary(t["money"], chart), "currency": currency}


def _indicator_views(activity: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    t = TEXT[lang]
    out = []
    for result in activity.get("results", []):
        for indicator in result.get("indicators", []):
            periods = []
            for period in indicator.get("periods", []):
                label = f"{period.get('start', '')} – {period.get('end', '')}"
                pair = bars(
                    [
                        (t["target"], period.get("target")),
                        (t["actual_value"], period.get("actual")),
                    ],
                    lang,
                    places=0,
                )
                periods.append({"label": label, "bars": pair, "alt": summary(label, pair)})
            out.append({"title": indicator.get("title") or result.get("title"), "periods": periods})
    return out


@router.get("/public/activities/{identifier}")
async def activity_page(
    request: Request, identifier: str, lang: Lang = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """One public activity."""
    chosen = negotiate(accept_language, lang)
    found, status_vocab = await asyncio.gather(
        _get(request, "cooperation", f"/v1/public/activities/{quote(identifier, safe='')}"),
        _get(request, "cooperation", "/v1/public/vocabularies/activity-status"),
    )
    if not isinstance(found, dict):
        return _page("missing.html", chosen, http_status=404, identifier=identifier)
    statuses = _labels(status_vocab, chosen)
    return _page(
        "activity.html",
        chosen,
        activity=found,
        identifier=identifier,
        title=found.get(f"title_{chosen}") or found.get("title_en") or identifier,
        description=found.get(f"description_{chosen}") or found.get("description_en") or "",
        status=statuses.get(str(found.get("status")), str(found.get("status"))),
        money=_money_view(found, chosen),
        indicators=_indicator_views(found, chosen),
        self_path=f"/public/activities/{quote(identifier, safe='')}",
    )
