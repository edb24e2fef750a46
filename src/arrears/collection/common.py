"""What the collection services share: their errors, who is acting (a user and the role the
policy checks), and the bulk update of rows from a frame used by the daily case update."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from arrears.servicing import BusinessRuleRefused
from arrears.store.tables import CollectionCase, User


class CollectionRefused(BusinessRuleRefused):
    """A collection request the rules or the policy refuse (bilingual message)."""


class CaseNotFound(CollectionRefused):
    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id!r} not found (案件不存在)")
        self.case_id = case_id


class NotAllowed(CollectionRefused):
    """The acting user's role may not do this under the policy."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


def actor(session: Session, username: str) -> Actor:
    """The active user `username` with their role, or a refusal naming them."""
    row = session.get(User, username)
    if row is None or not row.active:
        raise CollectionRefused(f"user {username!r} is unknown or inactive (用户不存在或已停用)")
    return Actor(row.username, row.role)


def require_case(session: Session, case_id: str, *, lock: bool = False) -> CollectionCase:
    """The case row; `lock` takes a row lock on PostgreSQL (SQLite serialises writers anyway)."""
    if lock:
        from sqlalchemy import select

        row = session.scalars(
            select(CollectionCase).where(CollectionCase.case_id == case_id).with_for_update()
        ).first()
    else:
        row = session.get(CollectionCase, case_id)
    if row is None:
        raise CaseNotFound(case_id)
    return row


def bulk_update(conn: Connection, table: str, key: str, frame: pl.DataFrame) -> int:
    """Set the non-key columns of `table` from `frame`, matching rows on `key`. PostgreSQL: COPY
    into a temporary table and one UPDATE … FROM; SQLite: one executemany."""
    if frame.height == 0:
        return 0
    columns = [c for c in frame.columns if c != key]
    if conn.dialect.name == "postgresql":
        from arrears.store.bulk import Writer

        tmp = f"tmp_{table}"
        conn.execute(
            text(
                f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS "
                f"SELECT {key}, {', '.join(columns)} FROM {table} WITH NO DATA"
            )
        )
        Writer(conn, None).bulk(tmp, frame.select(key, *columns))
        sets = ", ".join(f"{c} = {tmp}.{c}" for c in columns)
        conn.execute(
            text(f"UPDATE {table} SET {sets} FROM {tmp} WHERE {table}.{key} = {tmp}.{key}")
        )
        conn.execute(text(f"DROP TABLE {tmp}"))
        return frame.height
    frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
    sets = ", ".join(f"{c} = ?" for c in columns)
    raw = conn.connection.driver_connection
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(
            f"UPDATE {table} SET {sets} WHERE {key} = ?",
            frame.select(*columns, key).iter_rows(),
        )
    finally:
        cursor.close()
    return frame.height
