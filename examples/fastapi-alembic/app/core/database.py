"""The declarative Base every model derives from, and the engines and sessions."""
from contextlib import contextmanager
from typing import AsyncIterator, Iterator

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from app.config import get_settings

Base = declarative_base()

_async_engine = None
_sync_engine = None


def async_engine():
    global _async_engine
    if _async_engine is None:
        _async_engine = create_async_engine(get_settings().db.url, pool_pre_ping=True)
    return _async_engine


async def get_session() -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one async session per request."""
    factory = sessionmaker(async_engine(), class_=AsyncSession, expire_on_commit=False)
    async with factory() as session:
        yield session


@contextmanager
def get_sync_session() -> Iterator[Session]:
    """For code that must stay synchronous (background jobs, old libraries): run it with
    fastapi.concurrency.run_in_threadpool so that it does not block the event loop."""
    global _sync_engine
    if _sync_engine is None:
        url = get_settings().db.url.replace("+asyncpg", "+psycopg2")
        _sync_engine = create_engine(url, pool_pre_ping=True)
    with Session(_sync_engine) as session:
        yield session
