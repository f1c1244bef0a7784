"""Field types both kinds of release estimate (and the factor catalogue) share."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from services.inventory.registry.schemas import scaled

Unit = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[^\s].*$")]
ActivityRate = Annotated[
    Decimal, Field(ge=0, max_digits=18, decimal_places=6, description="Below 10^12"), scaled(6)
]
Department = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-9]|2[0-5])$")]
HolderId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=4000)]
