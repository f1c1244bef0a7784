"""What the ``enlace`` command says, in Spanish and English (``--lang``, else ``ENLACE_LANG``,
else the locale's language, else Spanish). Every message has both languages; a test fails
when one lacks a translation."""

from __future__ import annotations

import os

MESSAGES: dict[str, dict[str, str]] = {
    "login.ok": {
        "es": "Sesión iniciada como {client_id} en {url}; credenciales guardadas en {path} (0600).",
        "en": "Logged in as {client_id} at {url}; credentials saved in {path} (0600).",
    },
    "logout.ok": {
        "es": "Credenciales y tokens guardados eliminados.",
        "en": "Saved credentials and tokens deleted.",
    },
    "logout.none": {"es": "No había credenciales guardadas.", "en": "No saved credentials."},
    "whoami": {
        "es": "{client_id} en {url} (credenciales: {source}); token válido hasta {expires}",
        "en": "{client_id} at {url} (credentials: {source}); token valid until {expires}",
    },
    "pull.done": {
        "es": "{name}: {upserted} nuevos o cambiados, {deleted} eliminados, {total} en total; "
        "escrito en {output}",
        "en": "{name}: {upserted} new or changed, {deleted} deleted, {total} in all; "
        "written to {output}",
    },
    "pull.unknown": {
        "es": "Colección desconocida {name}; use una de: {names}",
        "en": "Unknown collection {name}; use one of: {names}",
    },
    "import.uploading": {"es": "Subiendo {name}", "en": "Uploading {name}"},
    "import.processing": {
        "es": "Procesando en el servidor ...",
        "en": "Processing on the server ...",
    },
    "import.report": {
        "es": "{rows_total} filas: {rows_imported} importadas, {rows_rejected} rechazadas{dry}",
        "en": "{rows_total} rows: {rows_imported} imported, {rows_rejected} rejected{dry}",
    },
    "import.dry": {"es": " (prueba: nada se escribió)", "en": " (dry run: nothing written)"},
    "import.rejected": {
        "es": "Importación rechazada: nada se importó.",
        "en": "Import rejected: nothing was imported.",
    },
    "import.errors_saved": {
        "es": "{count} errores guardados en {path}",
        "en": "{count} errors saved in {path}",
    },
    "export.done": {
        "es": "{what}: {size} bytes escritos en {path}",
        "en": "{what}: {size} bytes written to {path}",
    },
    "error.api": {"es": "Error {status}: {message}", "en": "Error {status}: {message}"},
    "error.connect": {
        "es": "No se pudo conectar con {url}: {reason}",
        "en": "Could not connect to {url}: {reason}",
    },
}

LANGUAGES = ("es", "en")


def language(explicit: str | None = None) -> str:
    """``es`` or ``en``."""
    for candidate in (explicit, os.environ.get("ENLACE_LANG"), os.environ.get("LANG")):
        if candidate and candidate[:2].lower() in LANGUAGES:
            return candidate[:2].lower()
    return "es"


def say(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang``, filled with ``values``."""
    return MESSAGES[key][lang].format(**values)
