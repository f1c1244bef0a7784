"""IATI 2.03 activity model for export and import.

Plain frozen dataclasses: no database, no HTTP. They describe the part of an
``iati-activity`` that Enlace publishes and reads back; anything outside it is ignored on
import. Codes are strings because IATI codes are strings (``"1"``, ``"41010"``, ``"A07"``);
money and percentages are :class:`~decimal.Decimal`.

Collections are tuples so that a value is immutable all the way down, except the
``{language: text}`` maps of titles and descriptions, which are kept as mappings for
convenience and excluded from hashing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal

# Codes used as defaults below (IATI codelists, version 2.03).
SECTOR_VOCABULARY_DAC5 = "1"
POLICY_MARKER_VOCABULARY_OECD_DAC = "1"
TAG_VOCABULARY_REPORTING_ORG = "99"
DESCRIPTION_TYPE_GENERAL = "1"
BUDGET_TYPE_ORIGINAL = "1"
BUDGET_STATUS_INDICATIVE = "1"

# Decimals (money, percentages) are kept exactly, at any scale: a value may have at most
# this many digits, and its exponent stays within the same bound (what the databases hold).
MAX_DECIMAL_DIGITS = 60
# The context every sum and rounding of such values runs in: wide enough never to round.
DECIMAL_CONTEXT = Context(prec=4 * MAX_DECIMAL_DIGITS, Emax=999_999, Emin=-999_999)


@dataclass(frozen=True, slots=True)
class IatiOrganisationRef:
    """An organisation as IATI names it: identifier, OrganisationType code and name."""

    ref: str | None
    name: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class IatiParticipatingOrg:
    """A ``participating-org``; role 1 Funding, 2 Accountable, 3 Extending, 4 Implementing."""

    role: str
    ref: str | None
    name: str
    type: str | None = None
    activity_id: str | None = None


@dataclass(frozen=True, slots=True)
class IatiActivityDate:
    """An ``activity-date``; type 1 planned start, 2 actual start, 3 planned end, 4 actual end."""

    type: str
    iso_date: dt.date


@dataclass(frozen=True, slots=True)
class IatiLocation:
    """A ``location``: Enlace's own are Peruvian departments (``ref`` = INEI code); an
    imported one keeps whatever ref and name it came with (both optional in IATI)."""

    name: str | None
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class IatiDescription:
    """A ``description`` other than the general one (type 2 objectives, 3 target groups,
    4 other): its type and its ``{language: text}`` narratives."""

    type: str
    texts: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True, slots=True)
class IatiSector:
    """A ``sector``; DAC 5-digit codes (vocabulary 1) unless said otherwise."""

    code: str
    percentage: Decimal | None = None
    vocabulary: str = SECTOR_VOCABULARY_DAC5


@dataclass(frozen=True, slots=True)
class IatiTag:
    """A ``tag``; vocabulary 99 (reporting organisation) carries work-program goals and areas."""

    code: str
    text: str
    vocabulary: str = TAG_VOCABULARY_REPORTING_ORG
    vocabulary_uri: str | None = None


@dataclass(frozen=True, slots=True)
class IatiPolicyMarker:
    """A ``policy-marker`` (OECD DAC vocabulary 1); significance 0-4."""

    code: str
    significance: str | None = None
    vocabulary: str = POLICY_MARKER_VOCABULARY_OECD_DAC


@dataclass(frozen=True, slots=True)
class IatiBudget:
    """A ``budget``: type 1 original / 2 revised, status 1 indicative / 2 committed."""

    period_start: dt.date
    period_end: dt.date
    value: Decimal
    value_date: dt.date
    currency: str | None = None
    type: str = BUDGET_TYPE_ORIGINAL
    status: str = BUDGET_STATUS_INDICATIVE


@dataclass(frozen=True, slots=True)
class IatiTransaction:
    """A ``transaction`` (type 2 commitment, 3 disbursement, 4 expenditure, 11/12/13 ...)."""

    type: str
    date: dt.date
    value: Decimal
    value_date: dt.date
    currency: str | None = None
    description: str | None = None
    provider_org: IatiOrganisationRef | None = None
    receiver_org: IatiOrganisationRef | None = None


@dataclass(frozen=True, slots=True)
class IatiDocumentLink:
    """A ``document-link``: progress reports and public reporting (category A01-A12, B01-B18)."""

    url: str
    format: str
    title: str
    category: str
    document_date: dt.date | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class IatiRelatedActivity:
    """A ``related-activity``; type 1 parent, 2 child, 3 sibling, 4 co-funded, 5 third party."""

    ref: str
    type: str


@dataclass(frozen=True, slots=True)
class IatiBaseline:
    """An indicator ``baseline``."""

    year: int
    value: str | None = None
    iso_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class IatiPeriod:
    """An indicator ``period`` with its target and actual (strings: IATI allows non-numbers)."""

    start: dt.date
    end: dt.date
    target: str | None = None
    actual: str | None = None


@dataclass(frozen=True, slots=True)
class IatiIndicator:
    """An ``indicator``; measure 1 unit, 2 percentage, 3 nominal, 4 ordinal, 5 qualitative."""

    measure: str
    title: str
    ascending: bool | None = None
    baseline: IatiBaseline | None = None
    periods: tuple[IatiPeriod, ...] = ()


@dataclass(frozen=True, slots=True)
class IatiResult:
    """A ``result``; type 1 output, 2 outcome, 3 impact, 9 other."""

    type: str
    title: str
    indicators: tuple[IatiIndicator, ...]
    aggregation_status: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class IatiActivity:
    """One ``iati-activity``, in the order the 2.03 schema lays its elements out.

    ``titles`` and ``descriptions`` map a language code (``"en"``, ``"es"``) to text;
    ``descriptions`` is the general one (type 1), ``other_descriptions`` the others.
    ``last_updated`` (optional in 2.03) must be timezone-aware when given and must change
    whenever any field changes. ``hierarchy`` is any ``xsd:int``; None leaves it out (IATI
    then reads 1).
    """

    identifier: str
    reporting_org: IatiOrganisationRef
    last_updated: dt.datetime | None
    titles: Mapping[str, str] = field(hash=False)
    descriptions: Mapping[str, str] = field(hash=False)
    participating_orgs: tuple[IatiParticipatingOrg, ...]
    status: str
    dates: tuple[IatiActivityDate, ...]
    hierarchy: int | None = 2
    other_descriptions: tuple[IatiDescription, ...] = ()
    default_currency: str | None = None
    default_language: str = "en"
    recipient_country: str | None = "PE"
    locations: tuple[IatiLocation, ...] = ()
    sectors: tuple[IatiSector, ...] = ()
    tags: tuple[IatiTag, ...] = ()
    policy_markers: tuple[IatiPolicyMarker, ...] = ()
    budgets: tuple[IatiBudget, ...] = ()
    transactions: tuple[IatiTransaction, ...] = ()
    document_links: tuple[IatiDocumentLink, ...] = ()
    related_activities: tuple[IatiRelatedActivity, ...] = ()
    results: tuple[IatiResult, ...] = ()

    def __post_init__(self) -> None:
        # A naive timestamp would serialise without an offset and be read back as local
        # time by whoever imports it; refuse it at the door instead.
        stamp = self.last_updated
        if stamp is not None and (stamp.tzinfo is None or stamp.utcoffset() is None):
            raise ValueError("last_updated must be timezone-aware")
