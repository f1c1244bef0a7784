"""Submission workflow of an inventory cycle (ARCHITECTURE.md: draft -> submitted ->
validated / returned).

Pure functions, no I/O. The holder organisation owns its submission and edits it; MINAM,
the national focal point, reviews it. ``TRANSITIONS`` is the one table of the moves:
who makes each one, with which token scope (the routes require ``MOVE_SCOPES``), and
whether a comment must say why; ``check_transition`` checks a move against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class SubmissionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    VALIDATED = "validated"
    RETURNED = "returned"


class Section(StrEnum):
    PCB = "pcb"
    UPOPS = "upops"
    MERCURY = "mercury"


class Actor(StrEnum):
    OWNER = "owner"
    REVIEWER = "reviewer"


SCOPE_WRITE: Final = "inventory:write"
SCOPE_REVIEW: Final = "inventory:review"


class WorkflowError(ValueError):
    """A status change the submission workflow does not allow."""


class NoSuchMove(WorkflowError):
    """The workflow has no move between these statuses."""

    def __init__(self, message: str, allowed: list[SubmissionStatus]) -> None:
        super().__init__(message)
        self.allowed = allowed  # where the submission may go instead


class WrongActor(WorkflowError):
    """The move belongs to the other role (``actor``)."""

    def __init__(self, message: str, actor: Actor) -> None:
        super().__init__(message)
        self.actor = actor


class CommentMissing(WorkflowError):
    """The move needs a comment saying why."""


@dataclass(frozen=True, slots=True)
class TransitionRule:
    """Who may make one move, with which scope, and whether they must say why."""

    actor: Actor
    scope: str
    comment_required: bool = False


_S = SubmissionStatus
TRANSITIONS: Final[Mapping[tuple[SubmissionStatus, SubmissionStatus], TransitionRule]] = (
    MappingProxyType(
        {
            (_S.DRAFT, _S.SUBMITTED): TransitionRule(Actor.OWNER, SCOPE_WRITE),
            (_S.SUBMITTED, _S.UNDER_REVIEW): TransitionRule(Actor.REVIEWER, SCOPE_REVIEW),
            (_S.UNDER_REVIEW, _S.VALIDATED): TransitionRule(Actor.REVIEWER, SCOPE_REVIEW),
            # A return without a reason leaves the owner guessing what to fix.
            (_S.UNDER_REVIEW, _S.RETURNED): TransitionRule(Actor.REVIEWER, SCOPE_REVIEW, True),
            (_S.SUBMITTED, _S.RETURNED): TransitionRule(Actor.REVIEWER, SCOPE_REVIEW, True),
            (_S.RETURNED, _S.SUBMITTED): TransitionRule(Actor.OWNER, SCOPE_WRITE),
        }
    )
)

_EDITABLE: Final = frozenset({SubmissionStatus.DRAFT, SubmissionStatus.RETURNED})


def _rule(current: SubmissionStatus, new: SubmissionStatus) -> TransitionRule:
    try:
        # Statuses read back from the database are plain strings.
        current, new = SubmissionStatus(current), SubmissionStatus(new)
    except ValueError as exc:
        raise WorkflowError(f"unknown status: {exc}") from exc
    rule = TRANSITIONS.get((current, new))
    if rule is None:
        allowed = sorted(n for (c, n) in TRANSITIONS if c == current)
        options = ", ".join(allowed) or "none, it is final"
        raise NoSuchMove(
            f"a submission cannot go from {current} to {new} (allowed: {options})", allowed
        )
    return rule


def required_scope(current: SubmissionStatus, new: SubmissionStatus) -> str:
    """The token scope the move needs (``WorkflowError`` if the move is not allowed)."""
    return _rule(current, new).scope


def _scopes_by_target() -> Mapping[SubmissionStatus, str]:
    scopes: dict[SubmissionStatus, str] = {}
    for (_, new), rule in TRANSITIONS.items():
        if scopes.setdefault(new, rule.scope) != rule.scope:
            raise AssertionError(f"moves to {new} need different scopes")
    return MappingProxyType(scopes)


# The scope of every move into a status (the same whichever status it comes from): what
# the route making that move requires.
MOVE_SCOPES: Final = _scopes_by_target()


def check_transition(
    current: SubmissionStatus,
    new: SubmissionStatus,
    *,
    actor_is_owner: bool,
    actor_is_reviewer: bool,
    comment: str | None,
) -> None:
    """Raise ``WorkflowError`` unless this actor may move a submission ``current -> new``.

    The owner organisation submits (and resubmits after a return); a reviewer takes up,
    validates or returns, and a return needs a non-blank comment. Being both owner and
    reviewer passes either role's check.
    """
    rule = _rule(current, new)
    if rule.actor == Actor.OWNER and not actor_is_owner:
        raise WrongActor(f"only the owner organisation may move a submission to {new}", rule.actor)
    if rule.actor == Actor.REVIEWER and not actor_is_reviewer:
        raise WrongActor(f"only a reviewer may move a submission to {new}", rule.actor)
    if rule.comment_required and not (comment and comment.strip()):
        raise CommentMissing(f"moving a submission to {new} requires a comment saying why")


def is_editable(status: SubmissionStatus) -> bool:
    """True while the owner may change the submission's data (draft or returned)."""
    return status in _EDITABLE


def counts_nationally(status: SubmissionStatus) -> bool:
    """True if the submission's data enters national totals (validated only)."""
    return status == SubmissionStatus.VALIDATED
