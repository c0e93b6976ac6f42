"""Every model, imported here so that Base.metadata is complete wherever this package is imported
(alembic/env.py relies on it for autogenerate)."""
from app.models.user import User  # noqa: F401

__all__ = ["User"]
