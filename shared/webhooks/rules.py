"""Pure rules of event delivery: who may receive an event, and when to try again."""

from __future__ import annotations

import random
from collections.abc import Iterable

PUBLIC = "public"


def audience(*, public: bool = False, orgs: Iterable[str] = (), scopes: Iterable[str] = ()) -> str:
    """The stored visibility of an event: ``public``, or who may see it, as
    ``,org:MINEM,scope:inventory:review,`` (an organisation's clients, or any client
    holding a scope)."""
    if public:
        return PUBLIC
    grants = sorted({f"org:{o}" for o in orgs if o} | {f"scope:{s}" for s in scopes if s})
    return "," + ",".join(grants) + ","


def may_see(visibility: str, *, org: str, scopes: Iterable[str]) -> bool:
    """True when a subscriber of organisation ``org`` with ``scopes`` may see the event.

    (The subscriber also holds the service's read scope: a subscription needs it.)"""
    if visibility == PUBLIC:
        return True
    grants = set(visibility.strip(",").split(","))
    return f"org:{org}" in grants or any(f"scope:{s}" in grants for s in scopes)


def backoff_s(
    attempt: int, *, base_s: float, cap_s: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first):
    exponential, capped, and with "equal jitter" (a random part of the second half taken
    off), so that subscribers that failed together do not get retried together."""
    ceiling = float(min(cap_s, base_s * 2.0 ** min(attempt - 1, 60)))
    draw = (rng or random).random()
    return ceiling / 2 + ceiling / 2 * draw


def unknown_event_types(wanted: Iterable[str], known: Iterable[str]) -> list[str]:
    """The event types in ``wanted`` this service does not emit."""
    known_set = set(known)
    return [t for t in wanted if t not in known_set]
