"""IATI ruleset checks that the XSD cannot express, and the derived funding status.

Schema validity is necessary, not sufficient: the IATI Standard ruleset adds checks on
identifiers, percentages and dates. Each message starts with the name of the rule it
breaks (``identifier-prefix: ...``) so callers and tests can tell them apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal, localcontext
from typing import Literal

from .model import DECIMAL_CONTEXT, IatiActivity, IatiBudget, IatiSector, IatiTransaction

# ActivityDateType codes.
PLANNED_START, ACTUAL_START, PLANNED_END, ACTUAL_END = "1", "2", "3", "4"
# TransactionType codes that the funding status looks at.
COMMITMENT_TYPES = frozenset({"2", "11"})  # outgoing / incoming commitment
SPENDING_TYPES = frozenset({"3", "4"})  # disbursement, expenditure
PLEDGE_TYPES = frozenset({"12", "13"})  # outgoing / incoming pledge
# BudgetStatus codes.
BUDGET_INDICATIVE, BUDGET_COMMITTED = "1", "2"

FundingStatus = Literal["pledged", "committed", "partially_disbursed", "disbursed", "none"]

_HUNDRED = Decimal(100)


def ruleset_errors(activity: IatiActivity, today: date) -> list[str]:
    """Messages for every IATI ruleset check ``activity`` fails (empty when it passes all).

    Checks: the identifier starts with the reporting-org ref and "-"; sector percentages
    sum to 100 within each vocabulary; actual dates and transaction dates are not after
    ``today``; planned and actual starts are not after their ends; each budget period
    starts before it ends and lasts at most one year.
    """
    return [
        *_identifier_errors(activity),
        *sector_percentage_errors(activity.sectors),
        *_activity_date_errors(activity, today),
        *_transaction_date_errors(activity.transactions, today),
        *_budget_errors(activity.budgets),
    ]


def sector_percentage_errors(sectors: Iterable[IatiSector]) -> list[str]:
    """Per vocabulary: a lone sector may omit its percentage (it is 100); otherwise every
    sector states one and they add up to exactly 100."""
    by_vocabulary: dict[str, list[IatiSector]] = defaultdict(list)
    for sector in sectors:
        by_vocabulary[sector.vocabulary].append(sector)
    errors: list[str] = []
    for vocabulary, group in sorted(by_vocabulary.items()):
        if len(group) == 1 and group[0].percentage is None:
            continue
        missing = [s.code for s in group if s.percentage is None]
        if missing:
            errors.append(
                f"sector-percentages: vocabulary {vocabulary}: no percentage for "
                f"{', '.join(missing)}"
            )
            continue
        with localcontext(DECIMAL_CONTEXT):
            total = sum((s.percentage for s in group if s.percentage is not None), Decimal(0))
        # Decimal arithmetic is exact, so 33.33 + 33.33 + 33.34 is 100 and nothing else is.
        if total != _HUNDRED:
            errors.append(
                f"sector-percentages: vocabulary {vocabulary}: percentages add up to {total}, "
                "not 100"
            )
    return errors


def funding_status(
    budgets: Iterable[IatiBudget],
    transactions: Iterable[IatiTransaction],
    *,
    default_currency: str | None = None,
) -> FundingStatus:
    """Where the money of an activity stands; IATI has no such field, so it is derived.

    - ``disbursed``: disbursements + expenditures reach the committed amount (commitment
      transactions, else committed budgets, else all budgets), or money was spent and
      nothing larger was ever committed or budgeted;
    - ``partially_disbursed``: something spent, less than that amount;
    - ``committed``: nothing spent, but commitment transactions or committed budgets;
    - ``pledged``: only indicative budgets or pledge transactions;
    - ``none``: no money recorded at all.

    Amounts are compared as they are: values in different currencies (after applying
    ``default_currency``) raise ``ValueError`` instead of being summed wrongly. Values
    with no currency at all are taken to be in the same currency as the others.
    """
    budgets = list(budgets)
    transactions = list(transactions)
    stated = [b.currency for b in budgets] + [t.currency for t in transactions]
    currencies = {c for c in (s or default_currency for s in stated) if c is not None}
    if len(currencies) > 1:
        raise ValueError(f"cannot compare amounts in {', '.join(sorted(currencies))}")

    def total(values: Iterable[Decimal]) -> Decimal:
        with localcontext(DECIMAL_CONTEXT):  # exact, whatever the magnitudes
            return sum(values, Decimal(0))

    spent = total(t.value for t in transactions if t.type in SPENDING_TYPES)
    committed = total(t.value for t in transactions if t.type in COMMITMENT_TYPES)
    if not committed:
        committed = total(b.value for b in budgets if b.status == BUDGET_COMMITTED)
    pledged = total(t.value for t in transactions if t.type in PLEDGE_TYPES) + total(
        b.value for b in budgets if b.status == BUDGET_INDICATIVE
    )

    if spent > 0:
        reference = committed or total(b.value for b in budgets)
        return "partially_disbursed" if spent < reference else "disbursed"
    if committed > 0:
        return "committed"
    if pledged > 0:
        return "pledged"
    return "none"


def _identifier_errors(activity: IatiActivity) -> list[str]:
    ref = activity.reporting_org.ref or ""
    if ref and activity.identifier.startswith(f"{ref}-"):
        return []
    return [
        f"identifier-prefix: iati-identifier {activity.identifier!r} does not start with the "
        f"reporting-org ref {ref!r} followed by '-'"
    ]


def _activity_date_errors(activity: IatiActivity, today: date) -> list[str]:
    errors = [
        f"date-in-future: actual date (type {d.type}) {d.iso_date} is after {today}"
        for d in activity.dates
        if d.type in (ACTUAL_START, ACTUAL_END) and d.iso_date > today
    ]
    by_type = {d.type: d.iso_date for d in activity.dates}
    # Not after, rather than strictly before: a one-day workshop starts and ends the same day.
    for start_type, end_type, label in (
        (PLANNED_START, PLANNED_END, "planned"),
        (ACTUAL_START, ACTUAL_END, "actual"),
    ):
        start, end = by_type.get(start_type), by_type.get(end_type)
        if start is not None and end is not None and start > end:
            errors.append(f"date-order: {label} start {start} is after {label} end {end}")
    return errors


def _transaction_date_errors(transactions: Iterable[IatiTransaction], today: date) -> list[str]:
    return [
        f"date-in-future: transaction (type {t.type}) dated {t.date} is after {today}"
        for t in transactions
        if t.date > today
    ]


def _budget_errors(budgets: Iterable[IatiBudget]) -> list[str]:
    errors: list[str] = []
    for budget in budgets:
        start, end = budget.period_start, budget.period_end
        if start >= end:
            errors.append(f"budget-period: period start {start} is not before period end {end}")
        elif end >= _one_year_after(start):
            errors.append(f"budget-period: period {start} to {end} is longer than one year")
    return errors


def _one_year_after(day: date) -> date:
    """The same day a year later; 29 February moves to 1 March."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return date(day.year + 1, 3, 1)
