"""A long-running server's pooled PostgreSQL connections survive the server side going away: a
connection that sat idle is checked before use and replaced when dead (without a ping on every
checkout, which the status API cannot afford)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from arrears.store import db
from arrears.store.db import make_engine


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_idle_connection_killed_by_the_server_is_replaced(
    empty_db_url, pg_admin, monkeypatch
) -> None:
    engine = make_engine(empty_db_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            first = conn.scalar(text("SELECT pg_backend_pid()"))
        with pg_admin.connect() as admin:  # the server drops the pooled connection
            assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # it has now been idle "long enough"
        with engine.connect() as conn:
            second = conn.scalar(text("SELECT pg_backend_pid()"))
        assert second != first
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_recently_used_connection_is_not_pinged(empty_db_url, pg_admin, monkeypatch) -> None:
    """The other branch: within IDLE_BEFORE_PING no ping is made, so a connection the server
    killed that very moment surfaces as an error on use (and the pool is then invalidated)."""
    engine = make_engine(empty_db_url, pool_size=1, max_overflow=0)
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 3600.0)
    try:
        with engine.connect() as conn:
            first = conn.scalar(text("SELECT pg_backend_pid()"))
        with pg_admin.connect() as admin:
            assert admin.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
            conn.scalar(text("SELECT 1"))
        assert caught.value.connection_invalidated
        with engine.connect() as conn:  # the pool recovers on the next checkout
            assert conn.scalar(text("SELECT pg_backend_pid()")) != first
    finally:
        engine.dispose()
