"""Bar charts as data for the pages' inline SVG: plain functions, no drawing library and no
script, so a chart renders on any browser with JavaScript off and nothing to download.

A chart is a list of bars, each with its label, value, the value as text and its length as
a share of the longest bar. The template draws each bar and gives the chart a text
alternative; the same figures are always in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    text: str
    share: float  # 0..1 of the longest bar
    highlight: bool = False


def number(value: object) -> Decimal | None:
    """A figure of the API (number or decimal string) as a Decimal; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def fmt(value: Decimal, lang: str, places: int = 0) -> str:
    """``value`` with thousands separators and ``places`` decimals, Spanish or English
    style (``12 345,6`` / ``12,345.6``)."""
    text = f"{value:,.{places}f}"
    if lang == "es":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def bars(
    rows: Sequence[tuple[str, object]],
    lang: str,
    *,
    places: int = 0,
    unit: str = "",
    highlight: set[str] | None = None,
) -> list[Bar]:
    """The bars of ``rows`` (label, figure), in the order given; missing figures left out."""
    found = [(label, n) for label, value in rows if (n := number(value)) is not None]
    longest = max((n for _, n in found), default=Decimal(0))
    suffix = f" {unit}" if unit else ""
    return [
        Bar(
            label=str(label) if label is not None else "—",
            value=n,
            text=fmt(n, lang, places) + suffix,
            share=float(n / longest) if longest > 0 else 0.0,
            highlight=label in (highlight or set()),
        )
        for label, n in found
    ]


def summary(title: str, chart: list[Bar]) -> str:
    """A chart's text alternative: its title and every bar's label and value."""
    parts = [f"{bar.label}: {bar.text}" for bar in chart]
    return f"{title}. " + "; ".join(parts) if parts else title
