"""Submission workflow of an inventory cycle."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inventory.submissions.rules import (
    TRANSITIONS,
    Section,
    SubmissionStatus,
    WorkflowError,
    check_transition,
    counts_nationally,
    is_editable,
    required_scope,
)

S = SubmissionStatus

# (current, new): (owner moves it?, comment required?) - written out independently of
# TRANSITIONS so that a change to the table is caught.
EXPECTED = {
    (S.DRAFT, S.SUBMITTED): (True, False),
    (S.SUBMITTED, S.UNDER_REVIEW): (False, False),
    (S.UNDER_REVIEW, S.VALIDATED): (False, False),
    (S.UNDER_REVIEW, S.RETURNED): (False, True),
    (S.SUBMITTED, S.RETURNED): (False, True),
    (S.RETURNED, S.SUBMITTED): (True, False),
}
FORBIDDEN = sorted(set(itertools.product(S, S)) - set(EXPECTED))


def test_enums_have_the_agreed_values() -> None:
    assert [s.value for s in S] == ["draft", "submitted", "under_review", "validated", "returned"]
    assert [s.value for s in Section] == ["pcb", "upops", "mercury"]


def test_transition_table_is_the_expected_one() -> None:
    assert set(TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("current", "new"), sorted(EXPECTED))
def test_allowed_moves_pass_for_the_right_actor(current: S, new: S) -> None:
    by_owner, needs_comment = EXPECTED[(current, new)]
    comment = "Faltan análisis GC de los transformadores de Ate." if needs_comment else None
    check_transition(
        current,
        new,
        actor_is_owner=by_owner,
        actor_is_reviewer=not by_owner,
        comment=comment,
    )
    assert required_scope(current, new) == ("inventory:write" if by_owner else "inventory:review")


@pytest.mark.parametrize(("current", "new"), sorted(EXPECTED))
def test_allowed_moves_fail_for_the_wrong_actor(current: S, new: S) -> None:
    by_owner, _ = EXPECTED[(current, new)]
    with pytest.raises(WorkflowError, match="only the owner" if by_owner else "only a reviewer"):
        check_transition(
            current,
            new,
            actor_is_owner=not by_owner,
            actor_is_reviewer=by_owner,
            comment="a reason",
        )


@pytest.mark.parametrize(("current", "new"), FORBIDDEN)
def test_every_other_move_is_rejected(current: S, new: S) -> None:
    with pytest.raises(WorkflowError, match="cannot go from"):
        check_transition(current, new, actor_is_owner=True, actor_is_reviewer=True, comment="x")
    with pytest.raises(WorkflowError, match="cannot go from"):
        required_scope(current, new)


def test_validated_is_final() -> None:
    with pytest.raises(WorkflowError, match="none, it is final"):
        check_transition(
            S.VALIDATED, S.DRAFT, actor_is_owner=True, actor_is_reviewer=True, comment="x"
        )


@pytest.mark.parametrize("current", [S.SUBMITTED, S.UNDER_REVIEW])
@pytest.mark.parametrize("comment", [None, "", "   \n\t"])
def test_returning_needs_a_comment(current: S, comment: str | None) -> None:
    with pytest.raises(WorkflowError, match="requires a comment"):
        check_transition(
            current, S.RETURNED, actor_is_owner=False, actor_is_reviewer=True, comment=comment
        )


def test_statuses_from_the_database_are_accepted_as_strings() -> None:
    check_transition(
        "draft",  # type: ignore[arg-type]
        "submitted",  # type: ignore[arg-type]
        actor_is_owner=True,
        actor_is_reviewer=False,
        comment=None,
    )
    with pytest.raises(WorkflowError, match="unknown status"):
        required_scope("draft", "published")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "editable", "national"),
    [
        (S.DRAFT, True, False),
        (S.SUBMITTED, False, False),
        (S.UNDER_REVIEW, False, False),
        (S.VALIDATED, False, True),
        (S.RETURNED, True, False),
    ],
)
def test_editable_and_national(status: S, editable: bool, national: bool) -> None:
    assert is_editable(status) is editable
    assert counts_nationally(status) is national


moves = st.tuples(st.sampled_from(S), st.booleans(), st.booleans(), st.none() | st.text())


@given(st.lists(moves, max_size=40))
def test_random_walks_follow_the_workflow(steps: list[tuple[S, bool, bool, str | None]]) -> None:
    current = S.DRAFT
    history = [current]
    for new, owner, reviewer, comment in steps:
        try:
            check_transition(
                current, new, actor_is_owner=owner, actor_is_reviewer=reviewer, comment=comment
            )
        except WorkflowError:
            continue
        rule = EXPECTED.get((current, new))
        assert rule is not None
        by_owner, needs_comment = rule
        assert owner if by_owner else reviewer
        assert not needs_comment or (comment is not None and comment.strip())
        current = new
        history.append(current)
    # Validation only ever follows review; nothing follows validation; data that counts
    # nationally can no longer be edited.
    for before, after in itertools.pairwise(history):
        if after == S.VALIDATED:
            assert before == S.UNDER_REVIEW
        assert before != S.VALIDATED
    assert not (is_editable(current) and counts_nationally(current))
