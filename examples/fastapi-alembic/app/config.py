"""Settings of the service, from the environment (the same Secret the migration Job gets)."""
import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class DatabaseSettings:
    url: str


@dataclass(frozen=True)
class Settings:
    db: DatabaseSettings


@lru_cache
def get_settings() -> Settings:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set, e.g. postgresql+asyncpg://app:secret@db:5432/orders")
    # The async engine needs an async driver; a plain postgresql:// URL gets asyncpg.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    return Settings(db=DatabaseSettings(url=url))
