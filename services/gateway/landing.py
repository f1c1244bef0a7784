"""``GET /``: where a person lands, in Spanish or English, linking to the documentation and
to what anyone may read without a token."""

from __future__ import annotations

import secrets
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import HTMLResponse

from shared.i18n import negotiate

router = APIRouter(include_in_schema=False)

_TEXT = {
    "es": {
        "title": "Enlace: intercambio de datos para la cooperación ambiental en el Perú",
        "intro": (
            "Enlace reúne el inventario nacional de contaminantes orgánicos persistentes y "
            "mercurio (convenios de Estocolmo y Minamata) y los programas de cooperación "
            "ambiental, detrás de una sola puerta con autenticación por token."
        ),
        "docs": "Documentación de la API",
        "public": "Datos públicos (sin token)",
        "other": "English",
    },
    "en": {
        "title": "Enlace: data exchange for environmental cooperation in Peru",
        "intro": (
            "Enlace brings together the national inventory of persistent organic pollutants "
            "and mercury (Stockholm and Minamata conventions) and the environmental "
            "cooperation programs, behind one token-authenticated entry."
        ),
        "docs": "API documentation",
        "public": "Public data (no token)",
        "other": "Español",
    },
}
_LINKS = {
    "es": {
        "/docs": "Swagger UI: probar la API (Authorize con client id y secret)",
        "/redoc": "ReDoc: referencia de la API",
        "/openapi.json": "Documento OpenAPI 3.1",
        "/public": "Vista del país: PCB, liberaciones y cooperación, con gráficos",
        "/cooperation/v1/public/activities": "Actividades de cooperación públicas (JSON)",
        "/cooperation/v1/public/iati/activities.xml": "Actividades públicas en IATI 2.03 (XML)",
        "/cooperation/v1/public/changes": "Cambios recientes de las actividades públicas",
        "/inventory/v1/public/vocabularies": "Vocabularios del inventario",
        "/health": "Estado del servicio",
    },
    "en": {
        "/docs": "Swagger UI: try the API (Authorize with a client id and secret)",
        "/redoc": "ReDoc: the API reference",
        "/openapi.json": "OpenAPI 3.1 document",
        "/public": "Country view: PCB, releases and cooperation, with charts",
        "/cooperation/v1/public/activities": "Public cooperation activities (JSON)",
        "/cooperation/v1/public/iati/activities.xml": "Public activities as IATI 2.03 (XML)",
        "/cooperation/v1/public/changes": "Recent changes to public activities",
        "/inventory/v1/public/vocabularies": "Inventory vocabularies",
        "/health": "Service health",
    },
}
_DOCS = ("/docs", "/redoc", "/openapi.json")
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}h1{font-size:1.5rem}a{color:#0b5394}"
)


def landing_html(lang: str, nonce: str) -> str:
    """The page in ``lang`` (``es`` or ``en``)."""
    text, links = _TEXT[lang], _LINKS[lang]
    other = "en" if lang == "es" else "es"

    def items(paths: list[str]) -> str:
        return "".join(f'<li><a href="{escape(p)}">{escape(links[p])}</a></li>' for p in paths)

    public = [p for p in links if p not in _DOCS]
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>Enlace</title><style nonce="{nonce}">{_STYLE}</style></head><body>'
        f"<h1>{escape(text['title'])}</h1><p>{escape(text['intro'])}</p>"
        f"<h2>{escape(text['docs'])}</h2><ul>{items(list(_DOCS))}</ul>"
        f"<h2>{escape(text['public'])}</h2><ul>{items(public)}</ul>"
        f'<p><a href="/?lang={other}" hreflang="{other}">{escape(text["other"])}</a></p>'
        "</body></html>"
    )


@router.get("/")
async def landing(
    lang: Annotated[Literal["es", "en"] | None, Query()] = None,
    accept_language: Annotated[str | None, Header(max_length=1000)] = None,
) -> HTMLResponse:
    """The landing page, in the language asked for (``?lang=``, else Accept-Language)."""
    chosen = negotiate(accept_language, lang)
    nonce = secrets.token_urlsafe(16)
    return HTMLResponse(
        landing_html(chosen, nonce),
        headers={
            "Content-Language": chosen,
            "Vary": "Accept-Language",
            "Content-Security-Policy": (
                f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
            "X-Frame-Options": "DENY",
        },
    )
