"""The inventory database's declarative base."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata


class Base(DeclarativeBase):
    """Base of every inventory table."""

    metadata = new_metadata()
