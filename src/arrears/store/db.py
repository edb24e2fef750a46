"""Engines, sessions, the unit of work and schema migrations.

One place decides how we talk to a database: SQLite gets the pragmas that make it a safe local
store (foreign keys on, WAL so readers do not block the writer, a busy timeout instead of instant
"database is locked"), PostgreSQL URLs are pointed at the psycopg 3 driver we ship, and Alembic is
driven from code so an installed package can migrate without an `alembic.ini` on disk.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 5000
_PG_UNDEFINED_TABLE = "42P01"


class DatabaseNotReady(RuntimeError):
    """The database has no schema, or an older one than this code needs."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"database {url} is not ready ({detail}): run `arrears db upgrade`")
        self.url = url


def normalise_url(url: str | URL) -> URL:
    """`url` with PostgreSQL pointed at psycopg 3 (`postgresql://` would ask for psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _safe(url: str | URL) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url`, configured the same way for the CLI, the server, the worker and tests.

    Extra keyword arguments go to `create_engine` (e.g. `echo=True`).
    """
    parsed = normalise_url(url)
    engine = create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql" and not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _ping_if_idle)
    return engine


# A long-running server outlives database connections (a restart, an idle timeout), so a pooled
# connection is checked before use — but only one that has sat idle: SQLAlchemy's `pool_pre_ping`
# pings on every checkout, a round trip per query burst that cost as much as the query itself
# on the status API. A connection returned moments ago is as alive as a ping would show.
IDLE_BEFORE_PING = 2.0  # seconds


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    last = record.info.get("checked_in_at")
    if last is None or time.monotonic() - last < IDLE_BEFORE_PING:
        return  # new (just connected) or recently used
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:  # any failure: let the pool replace this connection
        raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions on `engine`. Objects stay readable after commit (`expire_on_commit=False`), so a
    caller can print what it just saved without another round trip."""
    return sessionmaker(engine, expire_on_commit=False)


def is_missing_schema(exc: BaseException) -> bool:
    """Whether a database error means "the table is not there" rather than a real failure."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == _PG_UNDEFINED_TABLE:
        return True
    return "no such table" in str(orig)


@contextmanager
def single_read(engine: Engine) -> Iterator[Connection]:
    """A connection for one read statement, outside any transaction (autocommit). One statement
    is consistent on its own, and this saves the BEGIN and ROLLBACK round trips that a
    transaction costs — a third of a sign-in check's time. Several reads that must agree with
    each other belong in one transaction instead (`engine.connect()` / `unit_of_work`)."""
    with engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One transaction: `with unit_of_work(engine) as session:` commits when the block ends
    normally and rolls back when it raises, so a change and its event land together or not at
    all. A missing schema surfaces as `DatabaseNotReady` instead of a raw SQL error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        if is_missing_schema(exc):
            raise DatabaseNotReady(_safe(engine.url), "tables are missing") from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | URL | None = None) -> Config:
    """The Alembic configuration, built in code: the scripts live inside the package and the URL
    travels as an attribute (never through ConfigParser, which would choke on `%` in
    passwords)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["url"] = normalise_url(url)
    return config


def head_revision() -> str:
    """The revision this code expects the database to be at."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads, expected one: {heads}")
    return heads[0]


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision` (idempotent: nothing to do at head)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str | URL) -> str | None:
    """The revision the database at `url` is at, or None when it was never migrated."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def require_schema(engine: Engine) -> None:
    """Raise `DatabaseNotReady` unless the database is at the revision this code expects: a
    cheap check for entry points to make before any work starts."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    if current is None:
        raise DatabaseNotReady(_safe(engine.url), "no schema")
    if current != head:
        raise DatabaseNotReady(_safe(engine.url), f"at revision {current}, code expects {head}")
