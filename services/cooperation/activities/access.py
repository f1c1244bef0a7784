"""Who may call the cooperation routes (scopes) and the problems their OpenAPI documents."""

from __future__ import annotations

from typing import Annotated, Any

from shared.security import Principal, require_scopes

Reader = Annotated[Principal, require_scopes("cooperation:read")]
Writer = Annotated[Principal, require_scopes("cooperation:write")]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid cursor or parameter, or an unknown one", **PROBLEM},
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "Missing scope", **PROBLEM},
    422: {"description": "Invalid query parameter", **PROBLEM},
}
ONE_ERRORS = READ_ERRORS | {404: {"description": "No such activity you may see", **PROBLEM}}
WRITE_ERRORS = ONE_ERRORS | {
    403: {"description": "Missing scope, or not the lead / a participant", **PROBLEM},
    409: {"description": "Identifier already used", **PROBLEM},
    412: {"description": "If-Match does not name the current version", **PROBLEM},
    422: {"description": "Invalid body or a rule broken (see errors)", **PROBLEM},
    428: {"description": "If-Match missing", **PROBLEM},
}
# A creating POST or an import: no version to match yet, so no If-Match (428/412).
CREATE_ERRORS = {code: v for code, v in WRITE_ERRORS.items() if code not in (412, 428)}
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified"}}
