"""The five routes of a kind of release estimate (UP-POPs, mercury), built once: list,
add to a submission, get, change, remove. Each kind gives its table, schemas, service
functions and wording (``EstimateKind``); the shapes, scopes and checks are the same."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from services.inventory import routing
from services.inventory.estimates.service import (
    delete_estimate,
    estimates_query,
    release_rows,
    visible_estimate,
)
from services.inventory.submissions.access import check_editable, check_owner, editable_submission
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from shared.conditional import read_answer, require_if_match, tagged
from shared.db import SessionDep
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import Page
from shared.security import Principal

OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


@dataclass(frozen=True)
class EstimateKind:
    """One kind of estimate: what its routes store, show and say."""

    name: str  # "upops": operation names (list_upops ...) and paths (/upops-estimates)
    label: str  # "UP-POPs release estimate", in the summaries
    section: Section
    table: type[Any]
    releases: type[Any]
    # The body of an addition and of a change, the answer, and a page of answers.
    schemas: tuple[type[BaseModel], type[BaseModel], type[BaseModel], type[Page[Any]]]
    out: Callable[[Any, Sequence[Any]], BaseModel]
    create: Callable[..., Awaitable[tuple[Any, list[Any]]]]
    update: Callable[..., Awaitable[list[Any]]]
    # The kind's own list filter (a query parameter named after an estimate column).
    list_filter: inspect.Parameter
    # Descriptions of the list, add, get and change routes.
    docs: tuple[str, str, str, str]

    @property
    def tag(self) -> str:
        """The ETag kind of an estimate: ``upops-estimate``."""
        return f"{self.name}-estimate"

    @property
    def path(self) -> str:
        return f"/{self.name}-estimates"


def estimate_routes(router: APIRouter, kind: EstimateKind) -> None:
    """Add the routes of ``kind`` of estimate to ``router``."""
    in_model, patch_model, out_model, page_model = kind.schemas
    lists, adds, gets, changes = kind.docs
    one = f"{kind.path}/{{estimate_id}}"

    async def editable(
        request: Request, session: SessionDep, principal: Principal, estimate_id: int
    ) -> tuple[Any, Submission]:
        estimate, submission = await visible_estimate(session, principal, kind.table, estimate_id)
        check_owner(principal, submission.org_code, f"estimate {estimate_id}")
        check_editable(submission)
        require_if_match(request, routing.record_etag(kind.tag, estimate))
        return estimate, submission

    async def list_estimates(
        request: Request,
        response: Response,
        session: SessionDep,
        paging: routing.PagingQuery,
        principal: Principal = routing.READ,
        submission_id: OptionalId = None,
        org: routing.OrgQuery = None,
        year: routing.YearQuery = None,
        current: bool | None = None,
        **filters: Any,
    ) -> Any:
        stmt = estimates_query(
            principal, kind.table, submission_id=submission_id, org=org, year=year, current=current
        )
        for column, value in filters.items():
            if value is not None:
                stmt = stmt.where(getattr(kind.table, column) == str(value))
        rows, next_cursor = await routing.page_of(
            request, response, session, stmt, kind.table, paging
        )
        items = [kind.out(r, await release_rows(session, kind.releases, r.id)) for r in rows]
        return page_model(items=items, next_cursor=next_cursor)

    async def add_estimate(
        request: Request,
        response: Response,
        submission_id: routing.IdPath,
        session: SessionDep,
        body: Any,
        principal: Principal = routing.WRITE,
    ) -> Any:
        async def create() -> tuple[BaseModel, str]:
            submission = await editable_submission(
                session, principal, submission_id, section=kind.section
            )
            estimate, rows = await kind.create(session, principal, submission, body)
            return kind.out(estimate, rows), routing.record_etag(kind.tag, estimate)

        return await routing.create_once(request, response, session, principal, create)

    async def get_estimate(
        request: Request,
        response: Response,
        estimate_id: routing.IdPath,
        session: SessionDep,
        principal: Principal = routing.READ,
    ) -> Any:
        estimate, _ = await visible_estimate(session, principal, kind.table, estimate_id)
        out = kind.out(estimate, await release_rows(session, kind.releases, estimate.id))
        return read_answer(request, response, out, routing.record_etag(kind.tag, estimate))

    async def change_estimate(
        request: Request,
        response: Response,
        estimate_id: routing.IdPath,
        session: SessionDep,
        body: Any,
        principal: Principal = routing.WRITE,
    ) -> Any:
        estimate, submission = await editable(request, session, principal, estimate_id)
        rows = await kind.update(session, principal, submission, estimate, body)
        await session.flush()
        return tagged(response, kind.out(estimate, rows), routing.record_etag(kind.tag, estimate))

    async def remove_estimate(
        request: Request,
        estimate_id: routing.IdPath,
        session: SessionDep,
        principal: Principal = routing.WRITE,
    ) -> None:
        estimate, _ = await editable(request, session, principal, estimate_id)
        await delete_estimate(session, principal, estimate, kind.releases)

    routing.typed(list_estimates, insert=[kind.list_filter], before="")
    routing.typed(add_estimate, body=in_model)
    routing.typed(change_estimate, body=patch_model)
    plural = kind.label.replace("estimate", "estimates")
    routes: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = [
        (
            "GET",
            kind.path,
            list_estimates,
            {"summary": f"List {plural}", "description": lists, "response_model": page_model},
        ),
        (
            "POST",
            f"/submissions/{{submission_id}}{kind.path}",
            add_estimate,
            {
                "summary": f"Add a {kind.label}",
                "description": adds,
                "status_code": 201,
                "response_model": out_model,
                "responses": routing.CREATE,
                "openapi_extra": IDEMPOTENT,
            },
        ),
        (
            "GET",
            one,
            get_estimate,
            {
                "summary": f"Get a {kind.label}",
                "description": gets,
                "response_model": out_model,
                "responses": routing.READ_ONE,
            },
        ),
        (
            "PATCH",
            one,
            change_estimate,
            {
                "summary": f"Change a {kind.label}",
                "description": changes,
                "response_model": out_model,
                "responses": routing.UPDATE,
            },
        ),
        (
            "DELETE",
            one,
            remove_estimate,
            {
                "summary": f"Remove a {kind.label}",
                "description": "From the caller's editable submission; needs `If-Match`.",
                "status_code": 204,
                "responses": routing.UPDATE,
            },
        ),
    ]
    for (method, path, endpoint, options), verb in zip(
        routes, ("list", "create", "get", "patch", "delete"), strict=True
    ):
        router.add_api_route(
            path, endpoint, methods=[method], name=f"{verb}_{kind.name}", **options
        )
