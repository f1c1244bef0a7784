"""Column types both kinds of release estimate share."""

from __future__ import annotations

from sqlalchemy import Numeric

# An activity rate: below 10^14 with 6 decimals (the schemas allow below 10^12).
ActivityRate = Numeric(20, 6)
