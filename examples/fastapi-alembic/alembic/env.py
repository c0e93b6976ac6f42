import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from app.config import get_settings
from app.core.database import Base
# Lock-safe migrations on a live database (advisory run lock, lock_timeout with retries): the
# Alembic kit's package, which schemagate's Job puts on alembic's path (nothing to copy).
from schemagate_alembic import run_migrations

# Import every model, so that Base.metadata is complete: a model missing here is a table that
# autogenerate would not see.
from app.models import *  # noqa: F401, F403

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

settings = get_settings()
config.set_main_option("sqlalchemy.url", settings.db.url.replace("%", "%%"))
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=settings.db.url, target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    # In place of context.configure(...) + context.run_migrations(): the same, under an advisory
    # lock (two runs never migrate at once), each revision in its own transaction with a short
    # lock_timeout, retried once the transactions holding its locks have ended.
    run_migrations(context, connection, target_metadata=target_metadata)


async def run_async_migrations() -> None:
    connectable = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    async with connectable.connect() as connection:
        await connection.run_sync(do_run_migrations)
    await connectable.dispose()


def run_migrations_online() -> None:
    asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
