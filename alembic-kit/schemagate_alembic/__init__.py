"""Alembic on a live PostgreSQL: the same care as schemagate's Flyway runner, from env.py.

schemagate's Alembic Job puts this package on the path of the image's ``alembic`` (an init container
copies it in; nothing to add to the image): let env.py run the migrations through it::

    from schemagate_alembic import run_migrations

    def do_run_migrations(connection):
        run_migrations(context, connection, target_metadata=target_metadata)

What it does around ``context.run_migrations()`` for the commands that change the database
(upgrade, downgrade, stamp; ``alembic current`` and friends run as before):

* a PostgreSQL advisory lock per version table, so two runs never migrate at once; the wait is
  bounded (SCHEMAGATE_RUN_LOCK_WAIT, default 60s) and a run that gives up names the session that
  holds the lock (MigrationLockHeld);
* each revision in its own transaction, with a ``lock_timeout``: 50 ms on the first attempt, twice
  as long on each retry, at most SCHEMAGATE_LOCK_TIMEOUT (default 2s), so a query of the app never
  queues behind a migration for longer than that; ``statement_timeout`` when
  SCHEMAGATE_STATEMENT_TIMEOUT is set;
* a revision that gives up on a lock is rolled back and run again once the transactions that held
  the lock have ended (at most 60 s per wait), up to SCHEMAGATE_LOCK_RETRIES (default 10) retries
  or the Job's deadline (SCHEMAGATE_DEADLINE_SECONDS); each wait names who holds the lock (pid,
  user, application, state, since when; never a query's text), and running out is LockTimeout.

Log lines go to the logger ``alembic.schemagate``; schemagate's Job reads the lines that start
with a reason (``LockTimeout: ...``) and ``lock retries <revision> <n>``.

Nothing it lets through prints a secret: from ``run_migrations`` on, every log record and
everything written to stdout and stderr (an error's traceback, SQLAlchemy's ``[SQL: ...]`` and
``[parameters: ...]``) passes through schemagate's redaction: the database password and the
secrets of the environment in every encoding (raw, URL-encoded, JSON- or SQL-escaped), and every
shape a credential takes (``schemagate_alembic.redaction``, made from the operator's and the
runner's rules when the package is built).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Optional

from sqlalchemy import text

from schemagate_alembic.redaction import REDACTION_MASK, redact, secrets_in  # noqa: F401


log = logging.getLogger("alembic.schemagate")

FIRST_TIMEOUT_MS = 50
MAX_HOLDER_WAIT_S = 60.0
MAX_BACKOFF_S = 5.0
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
_STARTED = time.time()
_DURATION = re.compile(r"^([0-9]+)(ms|s|m|min|h)?$")


class MigrationStopped(Exception):
    """The run stopped for a reason schemagate reports (MigrationLockHeld, LockTimeout, ...)."""

    def __init__(self, reason: str, message: str, revision: Optional[str] = None):
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.revision = revision


def _millis(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    m = _DURATION.match(value)
    if not m:
        raise MigrationStopped("InvalidConfiguration", f"{name} must be a duration such as 500ms, 2s or 1m, not {value!r}")
    n, unit = int(m.group(1)), m.group(2) or "ms"
    return n * {"ms": 1, "s": 1000, "m": 60000, "min": 60000, "h": 3600000}[unit]


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise MigrationStopped("InvalidConfiguration", f"{name} must be a whole number of 0 or more, not {value!r}")
    return int(value)


class Settings:
    """The SCHEMAGATE_* lock settings of the Job contract, with the runner's defaults."""

    def __init__(self) -> None:
        self.lock_timeout_ms = _millis("SCHEMAGATE_LOCK_TIMEOUT", 2000)
        self.statement_timeout_ms = _millis("SCHEMAGATE_STATEMENT_TIMEOUT", 0)
        self.lock_retries = _number("SCHEMAGATE_LOCK_RETRIES", 10)
        self.run_lock_wait_ms = _millis("SCHEMAGATE_RUN_LOCK_WAIT", 60000)
        deadline = _number("SCHEMAGATE_DEADLINE_SECONDS", 0)
        if deadline > 0:
            margin = min(30.0, max(2.0, deadline / 10))
            self.deadline: Optional[float] = _STARTED + deadline - margin
        else:
            self.deadline = None

    def timeout_for(self, attempt: int) -> int:
        if self.lock_timeout_ms <= 0:
            return 0
        if attempt >= self.lock_retries:
            # the last attempt: no retry follows to make up for a short wait
            return self.lock_timeout_ms
        return min(self.lock_timeout_ms, FIRST_TIMEOUT_MS << min(attempt, 20))

    def remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.time()


def lock_key(schema: str, table: str) -> int:
    """The advisory lock's key: the same rule as the Flyway runner's (Java's String.hashCode)."""
    h = 0
    for ch in f"{schema}.{table}":
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    key = (0x5C4E3A6A7E000000 ^ (h & 0xFFFFFFFFFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF
    return key - (1 << 64) if key >= 1 << 63 else key


def _since(ts: Optional[datetime]) -> str:
    if ts is None:
        return "?"
    seconds = max(0, int((datetime.now(timezone.utc) - ts).total_seconds()))
    return f"{ts.astimezone().strftime('%H:%M:%S')} ({seconds} s)"


def _describe(row: Dict[str, Any]) -> str:
    parts = [f"user {row.get('usename')}", f"application \"{row.get('application_name') or ''}\""]
    if row.get("client_addr"):
        parts.append(f"from {row['client_addr']}")
    parts.append(row.get("state") or "state unknown")
    if row.get("xact_start") is not None:
        parts.append(f"transaction open since {_since(row['xact_start'])}")
    elif row.get("state_change") is not None:
        parts.append(f"since {_since(row['state_change'])}")
    if row.get("held"):
        parts.append(f"holds {row['held']}")
    return f"pid {row['pid']} ({', '.join(parts)})"


_BLOCKERS = text(
    "SELECT b.pid, b.usename, b.application_name, b.client_addr::text AS client_addr, b.state, b.xact_start,"
    " b.state_change, w.mode || ' on ' || coalesce(w.relation::regclass::text, w.locktype) AS waited,"
    " (SELECT string_agg(DISTINCT h.mode, ', ') FROM pg_locks h WHERE h.pid = b.pid AND h.granted"
    "   AND h.locktype = w.locktype AND h.relation IS NOT DISTINCT FROM w.relation) AS held"
    " FROM pg_locks w JOIN pg_stat_activity b ON b.pid = ANY (pg_blocking_pids(w.pid))"
    " WHERE w.pid = :pid AND NOT w.granted"
)
_WAITING = text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid")


class _Watch(threading.Thread):
    """Polls, from a connection of its own (autocommit: it holds no snapshot), whether the
    migration's session waits for a lock, and who holds it."""

    def __init__(self, url: Any) -> None:
        super().__init__(name="schemagate-lock-watch", daemon=True)
        self.url = url
        self.pid = 0
        self.what = ""
        self.holders: Dict[int, Dict[str, Any]] = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        # set once the watch's own connection is open: a lock wait it cannot see yet goes unnamed
        self.connected = threading.Event()

    def watch(self, pid: int, what: str) -> None:
        with self.lock:
            if pid:
                self.holders = {}
            self.what = what
            self.pid = pid

    def current(self) -> List[Dict[str, Any]]:
        with self.lock:
            return list(self.holders.values())

    def _seen(self, rows: List[Dict[str, Any]]) -> None:
        for row in rows:
            with self.lock:
                fresh = row["pid"] not in self.holders
                self.holders[row["pid"]] = row
                what = self.what
            if fresh:
                log.warning("%s waits for %s, held by %s", what, row["waited"], _describe(row))

    def run(self) -> None:
        try:
            if getattr(self.url.get_dialect(), "is_async", False):
                asyncio.run(self._run_async())
            else:
                self._run_sync()
        except Exception as e:  # the watch only informs: a failure here never stops the migration
            log.debug("lock watch stopped: %s", e)
        finally:
            self.connected.set()

    def _run_sync(self) -> None:
        from sqlalchemy import create_engine, pool

        engine = create_engine(self.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            self.connected.set()
            while not self.stopped.wait(0.02):
                pid = self.pid
                if pid and c.execute(_WAITING, {"pid": pid}).scalar() == "Lock":
                    self._seen([dict(r._mapping) for r in c.execute(_BLOCKERS, {"pid": pid})])
        engine.dispose()

    async def _run_async(self) -> None:
        from sqlalchemy import pool
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        async with engine.connect() as c:
            self.connected.set()
            while not self.stopped.is_set():
                await asyncio.sleep(0.02)
                pid = self.pid
                if pid and (await c.execute(_WAITING, {"pid": pid})).scalar() == "Lock":
                    self._seen([dict(r._mapping) for r in (await c.execute(_BLOCKERS, {"pid": pid}))])
        await engine.dispose()


class _Steps(logging.Handler):
    """Which revision runs now, from Alembic's own "Running upgrade a -> b" line."""

    def __init__(self, watch: "_Watch") -> None:
        super().__init__(logging.INFO)
        self.step: Any = None
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == "Running %s" and record.args:
            self.step = record.args[0] if isinstance(record.args, tuple) else record.args
            self.watch.what = f"revision {_revision(self.step)}"


def _revision(step: Any) -> Optional[str]:
    revision = getattr(step, "revision", None)
    return getattr(revision, "revision", None) if revision is not None else None


def _sqlstate(error: BaseException) -> Optional[str]:
    orig = getattr(error, "orig", None)
    for e in (orig, error):
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if state:
            return str(state)
    return None


def _set_timeouts(connection: Any, lock_ms: int, statement_ms: int) -> None:
    connection.exec_driver_sql(f"SET lock_timeout = {int(lock_ms)}")
    connection.exec_driver_sql(f"SET statement_timeout = {int(statement_ms)}")


@contextmanager
def run_lock(connection: Any, key: int, name: str, settings: Settings) -> Iterator[None]:
    """The advisory lock around the run, waited for at most SCHEMAGATE_RUN_LOCK_WAIT."""
    start = time.time()
    logged = -1.0
    holder = None
    holder_sql = text(
        "SELECT a.pid, a.usename, a.application_name, a.client_addr::text AS client_addr, a.backend_start, a.state,"
        " a.state_change FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
    )
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    while True:
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        if got:
            connection.commit()
            if holder is not None:
                log.info("took the migration lock after %d ms", (time.time() - start) * 1000)
            break
        row = connection.execute(holder_sql, {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).mappings().first()
        connection.commit()
        if row is not None:
            holder = (f"pid {row['pid']} (user {row['usename']}, application \"{row['application_name'] or ''}\""
                      + (f", from {row['client_addr']}" if row["client_addr"] else "")
                      + f", connected since {_since(row['backend_start'])}, {row['state']} since {_since(row['state_change'])})")
        waited = time.time() - start
        if waited * 1000 >= settings.run_lock_wait_ms:
            pid = holder.split(" ")[1] if holder else None
            raise MigrationStopped(
                "MigrationLockHeld",
                f"another run held the migration lock of {name} for longer than {settings.run_lock_wait_ms // 1000} s"
                f" (SCHEMAGATE_RUN_LOCK_WAIT); nothing was run. Held by {holder or 'a session that has since gone'}."
                " If that run is still going, run again when it is done; if it is gone (a pod killed mid-migration leaves"
                " its session until the server notices), end the session"
                + (f": SELECT pg_terminate_backend({pid})" if pid else ""))
        if logged < 0 or waited - logged >= 10:
            log.warning("another run holds the migration lock of %s: %s; waiting (%d s of at most %d s, SCHEMAGATE_RUN_LOCK_WAIT)",
                        name, holder or "a session", waited, settings.run_lock_wait_ms // 1000)
            logged = waited
        time.sleep(0.25)
    try:
        yield
    finally:
        try:
            if connection.in_transaction():
                connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            connection.commit()
        except Exception as e:  # the lock goes with the session anyway
            log.warning("could not release the migration lock (it goes with the connection): %s", e)


def _after_timeout(settings: Settings, connection: Any, watch: "_Watch", name: str, revision: str, attempt: int) -> None:
    """After attempt ``attempt`` (0-based) gave up on a lock: waits for the holders' transactions to
    end (or backs off), or raises LockTimeout when the retries or the deadline are used up."""
    holders = watch.current()
    who = "; ".join(_describe(h) for h in holders) or "a session the watch did not catch in time"
    waited = settings.timeout_for(attempt)
    nxt = settings.timeout_for(attempt + 1)

    def exhausted(why: str) -> MigrationStopped:
        fix = (f"end that transaction (SELECT pg_terminate_backend({holders[0]['pid']})) or run again once it is done"
               if holders else "run again when the database is quieter")
        return MigrationStopped(
            "LockTimeout",
            f"{name} could not get its locks in {attempt + 1} attempt(s) of at most {settings.lock_timeout_ms} ms each: {why};"
            f" it was rolled back (the revisions before it are applied). Last held by {who}. To go on: {fix},"
            " or allow more with spec.locks (lockTimeout, retries).", revision)

    if attempt >= settings.lock_retries:
        log.info("lock retries %s %d", revision, attempt)
        raise exhausted(f"its {settings.lock_retries} retries (SCHEMAGATE_LOCK_RETRIES) are used up")
    log.warning("%s gave up on a lock after %d ms (attempt %d of %d), rolled back; held by %s",
                name, waited, attempt + 1, settings.lock_retries + 1, who)
    start = time.time()
    if holders:
        bound = min(MAX_HOLDER_WAIT_S, settings.remaining() - nxt / 1000)
        pids = ", ".join(str(h["pid"]) for h in holders)
        log.info("retrying %s when %s (at most %d s)", name,
                 f"pid {pids} ends its transaction" if len(holders) == 1 else f"pids {pids} end their transactions", max(0, bound))
        check = text("SELECT xact_start FROM pg_stat_activity WHERE pid = :pid")

        def holding(h: Dict[str, Any]) -> bool:
            row = connection.execute(check, {"pid": h["pid"]}).first()
            connection.commit()
            return row is not None and (h.get("xact_start") is None or row[0] == h["xact_start"])

        while time.time() - start < bound and any(holding(h) for h in holders):
            time.sleep(0.1)
        time.sleep(random.uniform(0.01, 0.06))
    else:
        backoff = min(MAX_BACKOFF_S, 0.1 * (1 << min(attempt, 10)))
        time.sleep(backoff / 2 + random.uniform(0, backoff / 2))
    if settings.remaining() * 1000 < nxt:
        log.info("lock retries %s %d", revision, attempt)
        raise exhausted("the Job's deadline (SCHEMAGATE_DEADLINE_SECONDS) leaves no time for another attempt")
    log.info("retrying %s (attempt %d, lock timeout %d ms) after %d ms", name, attempt + 2, nxt, (time.time() - start) * 1000)


class _Redacting(logging.Filter):
    """Redacts a log record's message (its arguments and exception included) in place."""

    def __init__(self, secrets: List[str]) -> None:
        super().__init__("schemagate-redaction")
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        record.msg, record.args, record.exc_info = redact(message, self.secrets), None, None
        return True


class _RedactingStream:
    """A text stream that redacts each line before it reaches the one it wraps."""

    def __init__(self, stream: Any, secrets: List[str]) -> None:
        self._stream, self._secrets, self._pending = stream, secrets, ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            lines, self._pending = self._pending.rsplit("\n", 1)
            self._stream.write(redact(lines + "\n", self._secrets))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact(self._pending, self._secrets))
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def redact_output(url: Any = None) -> List[str]:
    """From here on, every log record and everything written to stdout and stderr is redacted: the
    secrets of the environment, the password of ``url`` (a SQLAlchemy URL), and every shape a
    credential takes. Returns the secrets it masks."""
    secrets = secrets_in(os.environ)
    password = getattr(url, "password", None)
    if password:
        secrets.append(str(password))
    loggers = [logging.getLogger()] + [v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)]
    for handler in {h for logger in loggers for h in logger.handlers}:
        if not any(isinstance(f, _Redacting) for f in handler.filters):
            handler.addFilter(_Redacting(secrets))
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _RedactingStream):
            setattr(sys, name, _RedactingStream(stream, secrets))
    return secrets


def run_migrations(context: Any, connection: Any, **configure: Any) -> None:
    """``context.configure(connection=..., **configure)`` then ``context.run_migrations()``, with
    the run lock, the lock timeouts and the retries (see the module's documentation), and what it
    prints redacted (``redact_output``)."""
    redact_output(getattr(getattr(connection, "engine", None), "url", None))
    # alembic current, check, ... run with dont_mutate: no lock, nothing to retry
    environment = getattr(context, "_proxy", None) or context
    options = getattr(environment, "context_opts", {}) or {}
    mutating = not options.get("dont_mutate") and connection.dialect.name == "postgresql"
    if not mutating:
        context.configure(connection=connection, **configure)
        with context.begin_transaction():
            context.run_migrations()
        return
    try:
        _run_safely(context, connection, configure)
    except MigrationStopped as e:
        log.error("%s", e)
        raise


def _run_safely(context: Any, connection: Any, configure: Dict[str, Any]) -> None:
    settings = Settings()
    configure = dict(configure)
    configure["transaction_per_migration"] = True
    schema = configure.get("version_table_schema") or connection.exec_driver_sql("SELECT current_schema()").scalar()
    table = configure.get("version_table", "alembic_version")
    connection.commit()
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    connection.commit()

    watch = _Watch(connection.engine.url)
    watch.start()
    # on a busy machine opening the watch's connection can take a while: wait for it (bounded)
    watch.connected.wait(10)
    steps = _Steps(watch)
    logging.getLogger("alembic.runtime.migration").addHandler(steps)
    retries: Dict[str, int] = {}
    user_callbacks = list(configure.pop("on_version_apply", None) or [])
    if callable(user_callbacks):
        user_callbacks = [user_callbacks]

    def applied(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
        revision = _revision(steps.step)
        n = retries.get(revision or "", 0)
        if n:
            log.info("lock retries %s %d", revision, n)
        # the next revision starts with the first attempt's lock timeout again
        _set_timeouts(ctx.connection, settings.timeout_for(0), settings.statement_timeout_ms)
        for callback in user_callbacks:
            callback(ctx=ctx, step=step, heads=heads, run_args=run_args)

    try:
        with run_lock(connection, lock_key(schema, table), f"{schema}.{table}", settings):
            lock_ms = settings.timeout_for(0)
            while True:
                steps.step = None
                _set_timeouts(connection, lock_ms, settings.statement_timeout_ms)
                connection.commit()
                context.configure(connection=connection, on_version_apply=[applied], **configure)
                watch.watch(pid, "migration")
                try:
                    with context.begin_transaction():
                        context.run_migrations()
                    return
                except Exception as e:  # the driver's error, through SQLAlchemy
                    watch.watch(0, "")
                    if connection.in_transaction():
                        connection.rollback()
                    revision = _revision(steps.step) or "?"
                    state = _sqlstate(e)
                    if state == QUERY_CANCELED and settings.statement_timeout_ms > 0:
                        raise MigrationStopped(
                            "MigrationFailed", f"revision {revision} ran longer than the statement timeout"
                            f" ({settings.statement_timeout_ms} ms, SCHEMAGATE_STATEMENT_TIMEOUT) and was rolled back",
                            revision) from e
                    if state != LOCK_NOT_AVAILABLE or settings.lock_timeout_ms <= 0:
                        raise
                    attempt = retries.get(revision, 0)
                    _after_timeout(settings, connection, watch, f"revision {revision}", revision, attempt)
                    retries[revision] = attempt + 1
                    lock_ms = settings.timeout_for(attempt + 1)
    finally:
        watch.stopped.set()
        logging.getLogger("alembic.runtime.migration").removeHandler(steps)
