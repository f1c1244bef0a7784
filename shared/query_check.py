"""Unknown query parameters are a 400: a misspelt filter (``?iati_identifer=``) or option
(``?dry-run=true``) must not silently answer everything, or write for real.

The accepted names are those the route declares (its own query parameters and every
dependency's, by alias), read from FastAPI's dependency tree once per route: nothing is
listed by hand, so a parameter added to a route is accepted, and documented in OpenAPI, at
once. Installed on every route of a service app (``shared.app``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.problems import PROBLEM_JSON, Problem
from shared.security import invalid_request

# In the OpenAPI document of every route (a route's own 400 description is kept).
UNKNOWN_PARAMETER_RESPONSE: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Unknown query parameter (`unknown` names it, `accepted` lists the "
        "route's), or another invalid request",
        "content": {PROBLEM_JSON: {}},
    }
}
_ACCEPTED = "_enlace_query_params"  # the route's accepted names, kept on the route
# Accepted on every route: the language of the answer (shared.i18n).
EVERYWHERE = frozenset({"lang"})


def declared_query_params(dependant: Dependant) -> frozenset[str]:
    """The query parameter names (aliases) of ``dependant`` and its dependencies."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(param.alias for param in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


def accepted_query_params(route: APIRoute) -> frozenset[str]:
    accepted: frozenset[str] | None = getattr(route, _ACCEPTED, None)
    if accepted is None:
        accepted = declared_query_params(route.dependant) | EVERYWHERE
        setattr(route, _ACCEPTED, accepted)
    return accepted


async def known_query_params(request: Request) -> None:
    """Dependency: a 400 ``unknown-query-parameter`` naming the parameters the route does
    not declare, with the accepted ones (``unknown``, ``accepted``)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if "access_token" in request.query_params:
        # The token check's own answer (RFC 6750), which would come first on any route.
        raise invalid_request("Send the token in the Authorization header only.")
    accepted = accepted_query_params(route)
    unknown = sorted({name for name in request.query_params if name not in accepted})
    if unknown:
        listed = ", ".join(sorted(accepted)) or "none"
        raise Problem(
            400,
            "unknown-query-parameter",
            f"Unknown query parameter(s): {', '.join(unknown)}. Accepted: {listed}.",
            title="Unknown query parameter",
            unknown=unknown,
            accepted=sorted(accepted),
        )
