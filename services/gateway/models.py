"""Every gateway model, imported so the metadata is complete (Alembic, tests)."""

__all__: list[str] = []
