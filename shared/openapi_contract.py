"""The error side of the OpenAPI document, made to say what the servers send.

Every error the suite answers is an RFC 9457 ``application/problem+json`` document (see
``shared.problems``); FastAPI's generated document declares its own ``HTTPValidationError``
for 422 instead, and leaves out the errors a route can meet before its own code runs. This
module rewrites an OpenAPI document (a plain dict) so that:

- one ``Problem`` schema describes every 4xx and 5xx answer, with ``errors`` (what was wrong
  where: ``loc``/``msg``/``type`` for a field, ``row``/``column``/``reason`` for an import)
  and the extension members the servers add (``request_id``, ``source``);
- 401 and 403 are declared on every route that needs a token, 404 on every route with a
  path parameter, 429 (the gateway's rate limit) and 503 (a database or backend that cannot
  serve, with ``Retry-After``) on every route;
- ``HTTPValidationError`` and ``ValidationError`` are gone;
- every tag has a description;
- the conditional and idempotent request headers are declared where the servers honour
  them: ``If-None-Match`` (and ``ETag`` on the answers) on every read that declares its 304,
  a required ``If-Match`` on every write that declares 428/412, and ``Idempotency-Key`` on
  every operation a router marks with ``IDEMPOTENT`` (the creating POSTs and imports).

It is applied to each service's own document and to the gateway's merged one (idempotent).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from shared.problems import PROBLEM_BASE, PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS = {
    "400": "Bad request: an unknown query parameter, a bad cursor or path (problem details)",
    "401": "No token, or a token that is not valid (problem details)",
    "403": "The token lacks the scope, or the organisation may not do this (problem details)",
    "404": "Not found, or not visible to you (problem details)",
    "429": "Too many requests: wait for Retry-After (problem details, from the gateway)",
    "503": "A database or service cannot serve now: retry after Retry-After (problem details)",
}

# A route's ``openapi_extra`` marker: it replays its first answer for a repeated
# Idempotency-Key (``shared.idempotency``). Replaced by the parameter in the document.
IDEMPOTENCY_MARK = "x-enlace-idempotency-key"
IDEMPOTENT: dict[str, Any] = {IDEMPOTENCY_MARK: True}

ETAG_HEADER: dict[str, Any] = {
    "description": "The representation's entity tag: send it back in If-None-Match (a 304 "
    "while unchanged) or, to change the record, in If-Match.",
    "schema": {"type": "string", "examples": ['"3f1d0c0e6a0b4a53a2b5e0f1c9d8e7f6"']},
}
HEADER_PARAMETERS: dict[str, dict[str, Any]] = {
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags you hold (or `*`): the answer is an empty 304 while the "
        "representation still has one of them (RFC 9110 13.1.2).",
        "schema": {"type": "string"},
    },
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": "The ETag of the version you last read (or `*`): without it the write "
        "is a 428, with a stale one a 412 carrying the current ETag. No update is lost "
        "(RFC 9110 13.1.1).",
        "schema": {"type": "string"},
    },
    "Accept-Language": {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "description": "`es` or `en` (q-values honoured): the language of problem titles and "
        "details and of labels. Without it (and without `lang`) English. The answer says "
        "which in `Content-Language`.",
        "schema": {"type": "string", "examples": ["es-PE,es;q=0.9,en;q=0.5"]},
    },
    "Idempotency-Key": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "A key of yours (at most 200 characters) that makes retrying safe: the "
        "same key with the same body gets the first answer again, with another body a 422.",
        "schema": {"type": "string", "maxLength": 200},
    },
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details (`application/problem+json`).",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": f"What kind of problem: `{PROBLEM_BASE}<slug>`.",
            "examples": [f"{PROBLEM_BASE}validation-error"],
        },
        "title": {"type": "string", "description": "The HTTP status phrase, or a summary."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What happened, for a person."},
        "instance": {"type": "string", "description": "The path that was asked for."},
        "request_id": {
            "type": ["string", "null"],
            "description": "The request's X-Request-ID: quote it when reporting a problem.",
        },
        "source": {
            "type": "string",
            "enum": ["gateway"],
            "description": "Present when the gateway answered itself (tokens, limits, backends).",
        },
        "errors": {
            "type": "array",
            "description": "Each thing that was wrong: a field (`loc`, `msg`, `type`), a row "
            "of an import (`row`, `column`, `code`, `message` in both services), or a finding.",
            "items": {"$ref": "#/components/schemas/ProblemError"},
        },
    },
    "additionalProperties": True,
}

PROBLEM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "ProblemError",
    "description": "One thing that was wrong.",
    "type": "object",
    "properties": {
        "loc": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'Where: e.g. `["body", "status"]` or `["query", "limit"]`.',
        },
        "msg": {"type": "string"},
        "type": {"type": "string"},
        "row": {"type": ["integer", "null"], "description": "The file's row (imports)."},
        "column": {"type": ["string", "null"], "description": "The column (imports)."},
        "code": {"type": "string", "description": "What kind of error (imports)."},
        "message": {"type": "string", "description": "What is wrong, for a person (imports)."},
        "reason": {"type": "string"},
    },
    "additionalProperties": True,
}

# What each tag groups, shown by Swagger UI and ReDoc above its routes. A tag used by a
# route without a description here fails the OpenAPI tests.
TAGS: dict[str, str] = {
    "tokens": "OAuth2 client-credentials tokens (RFC 6749 4.4) and the public signing keys.",
    "administration": "Clients, secrets, token revocation, signing keys and the audit log "
    "(scope `admin`).",
    "health": "Liveness and readiness of each process and of what it depends on.",
    "holders and sites": "Holders of PCB equipment (by RUC) and their sites (UBIGEO, WGS84).",
    "inventory cycles": "Submissions per organisation, year and section, and the review "
    "workflow: submit, review, validate, return, correct.",
    "PCB equipment": "PCB items with their class and compliance flags (Stockholm Annex A "
    "Part II), analyses, status history, inspections and elimination evidence.",
    "PCB wastes": "Stored PCB waste lots (liquids, drained equipment, contaminated "
    "materials) with their mass, concentration and storage site.",
    "PCB shipments": "Shipments of PCB wastes and equipment for disposal: Basel notification "
    "and movement documents, facility, country, Annex IV operation, dates and mass.",
    "imports": "Bulk imports of spreadsheets and files, with a report per row.",
    "unintentional POPs": "UNEP Toolkit emission factors and release estimates of PCDD/F, "
    "dl-PCB, HCB and PeCBz (Stockholm Annex C).",
    "mercury": "Mercury release estimates per pathway (Minamata Convention).",
    "reports": "National figures computed from validated data: summaries, by department, "
    "by holder, time series, UP-POPs inventories side by side.",
    "metrics": "The metric catalogue: named figures computed from validated inventory data "
    "for a year, a schedule and a scope, each linked to the submissions it came from.",
    "plans": "National action plans (Stockholm, Minamata): objectives, responsible agencies "
    "and targets tracked against their trajectory by a metric.",
    "public": "What anyone may read without a token: published aggregates and public activities.",
    "history": "Every change to the data, deletions included.",
    "work programs": "Cooperation work programs with their goals, priority areas, objectives "
    "and action areas, and the organisations taking part.",
    "activities": "Cooperation activities: donor pull with filters and cursors, writes by "
    "the lead and participants, history and change feed.",
    "exports": "IATI 2.03 XML exports of published activities.",
    "inventory indicators": "Cooperation indicators fed by an inventory metric through the "
    "gateway: bindings, each period's actual with its source, refresh, the inventory's events.",
    "matrix": "The activity matrix: priority area x status, money, coverage gaps.",
    "vocabularies": "Code lists with Spanish and English labels.",
    "subscriptions": "Event subscriptions (webhooks), scope `subscriptions` plus the service's "
    "read scope: register an HTTPS URL and the event types it wants; each event is POSTed, "
    "signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, "
    "`webhook-signature` with the `whsec_` secret shown at creation), at least once, in order "
    "per activity or submission, retried with exponential backoff; the delivery log shows "
    "every attempt and a failed delivery can be replayed. Only events the subscriber may read "
    "are sent.",
}


class NotNullInSchema:
    """Mixin of a PATCH body model: the fields named in ``_not_null`` are optional but never
    null (the model's validator refuses null for them with a 422), and its JSON schema says
    so: their ``null`` alternative is left out, so a generated client cannot send it."""

    _not_null: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name in cls._not_null:
            field = properties.get(name)
            if field is None or "anyOf" not in field:
                continue
            kept = [s for s in field["anyOf"] if s.get("type") != "null"]
            del field["anyOf"]
            field.pop("default", None)
            if len(kept) == 1:
                field.update(kept[0])
            else:
                field["anyOf"] = kept
        return schema


def _describe_tags(document: dict[str, Any]) -> None:
    """The document's ``tags``: every tag its operations use, each with a description
    (a merged document's tags are ``<service>: <tag>``)."""
    used: dict[str, None] = {t["name"]: None for t in document.get("tags", [])}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, dict):
                used.update(dict.fromkeys(operation.get("tags", [])))
    known = {t["name"]: t.get("description") for t in document.get("tags", [])}
    tags = []
    for name in used:
        base = name.split(": ", 1)[-1]
        description = known.get(name) or TAGS.get(base) or TAGS.get(name)
        tags.append({"name": name, "description": description} if description else {"name": name})
    document["tags"] = tags


def _is_error(code: str) -> bool:
    return code[:1] in ("4", "5") or code == "default"


def _refers_to(node: Any, names: tuple[str, ...]) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in names:
            return True
        return any(_refers_to(v, names) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, names) for v in node)
    return False


def _wanted(path: str, operation: dict[str, Any]) -> list[str]:
    codes = ["429", "503"]
    if operation.get("security"):
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    return codes


def _parameter(operation: dict[str, Any], name: str) -> None:
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    if not any(
        p.get("in") == "header" and p.get("name", "").lower() == name.lower() for p in parameters
    ):
        parameters.append(dict(HEADER_PARAMETERS[name]))


LANG_PARAMETER: dict[str, Any] = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "`es` or `en`: the answer's language, before Accept-Language.",
    "schema": {"type": "string", "enum": ["es", "en"]},
}


def _headers(operation: dict[str, Any]) -> None:
    """The language, conditional and idempotency parameters of the operation."""
    responses: dict[str, Any] = operation["responses"]
    _parameter(operation, "Accept-Language")
    parameters: list[dict[str, Any]] = operation["parameters"]
    if not any(p.get("in") == "query" and p.get("name") == "lang" for p in parameters):
        parameters.append(dict(LANG_PARAMETER))
    if "304" in responses:
        _parameter(operation, "If-None-Match")
        responses["304"].setdefault("headers", {})["ETag"] = ETAG_HEADER
        for code in ("200", "201"):
            if code in responses:
                responses[code].setdefault("headers", {})["ETag"] = ETAG_HEADER
    if "428" in responses:
        _parameter(operation, "If-Match")
        responses["412"] = responses.get("412") or {"description": "If-Match is stale"}
        responses["412"].setdefault("headers", {})["ETag"] = ETAG_HEADER
        for code in ("200", "201"):
            if code in responses:
                responses[code].setdefault("headers", {})["ETag"] = ETAG_HEADER
    if operation.pop(IDEMPOTENCY_MARK, False):
        _parameter(operation, "Idempotency-Key")


def _operation(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    _headers(operation)
    for code in _wanted(path, operation):
        responses.setdefault(code, {"description": DESCRIPTIONS[code]})
    for code, response in responses.items():
        if _is_error(code) and "$ref" not in response:
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
            if code == "422" and "Validation Error" in response.get("description", ""):
                response["description"] = (
                    "Invalid input: each field named in `errors` (problem details)"
                )
    operation["responses"] = dict(sorted(responses.items()))


def apply_contract(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with the error contract above (changed in place, and returned)."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS and isinstance(operation, dict):
                _operation(path, operation)
    _describe_tags(document)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ProblemError"] = PROBLEM_ERROR_SCHEMA
    for name in FASTAPI_ERRORS:
        schemas.pop(name, None)
    if _refers_to(document, FASTAPI_ERRORS):  # a leftover would be a dangling $ref
        raise ValueError("the document still refers to FastAPI's validation error schemas")
    return document
