"""Bulk writes of frames into the tables, in the caller's transaction: SQLite through the DBAPI's
`executemany`, PostgreSQL through psycopg 3 `COPY`. No ORM objects are built for the rows; the
import and the close of business use it for millions of rows."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection

from arrears.store.tables import Event

COPY_CHUNK = 200_000


class Writer:
    """Writes frames whose columns are named as the table's (dates as `pl.Date`)."""

    def __init__(self, conn: Connection, progress: Callable[[str, int, int], None] | None) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.progress = progress
        raw = conn.connection.driver_connection
        assert raw is not None
        self.raw = raw

    def bulk(self, table: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        columns = ", ".join(frame.columns)
        if self.dialect == "postgresql":
            sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
            with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                for start in range(0, frame.height, COPY_CHUNK):
                    chunk = frame.slice(start, COPY_CHUNK)
                    copy.write(chunk.write_csv(include_header=False, null_value=""))
                    self._tick(table, start + chunk.height, frame.height)
            return
        frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
        marks = ", ".join("?" for _ in frame.columns)
        sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
        cursor = self.raw.cursor()
        try:
            for start in range(0, frame.height, COPY_CHUNK):
                chunk = frame.slice(start, COPY_CHUNK)
                cursor.executemany(sql, chunk.iter_rows())
                self._tick(table, start + chunk.height, frame.height)
        finally:
            cursor.close()

    def _tick(self, table: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(f"write {table}", done, total)

    def timestamp(self, value: datetime) -> str:
        """`value` as the events/import_batches columns store it on this database."""
        if self.dialect == "postgresql":
            return value.isoformat()
        processor = Event.__table__.c.occurred_at.type.bind_processor(self.conn.dialect)
        bound = processor(value) if processor else value
        # what sqlite3's own datetime adapter would store, done once instead of once per row
        return bound.isoformat(" ") if isinstance(bound, datetime) else str(bound)


def read_frame(
    conn: Connection, sql: str, schema: dict[str, pl.DataType], params: Sequence[Any] = ()
) -> pl.DataFrame:
    """Run `sql` and return its rows as a frame with `schema` (column order = select order).

    PostgreSQL streams the result with `COPY (…) TO STDOUT` as CSV, which Polars parses in bulk;
    SQLite's rows come through the DBAPI cursor. Placeholders are `%s` (converted for SQLite).
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    names = list(schema)
    if conn.dialect.name == "postgresql":
        buffer = io.BytesIO()
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
        ):
            for block in copy:
                buffer.write(block)
        if buffer.tell() == 0:
            return pl.DataFrame(schema=schema)
        buffer.seek(0)
        return pl.read_csv(buffer, has_header=False, new_columns=names, schema=schema)
    cursor = raw.cursor()
    try:
        cursor.execute(sql.replace("%s", "?"), tuple(params))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    # SQLite hands dates back as ISO text.
    return frame.select(
        pl.col(name).str.to_date("%Y-%m-%d").alias(name)
        if dtype == pl.Date and frame.schema[name] == pl.String
        else pl.col(name).cast(dtype)
        for name, dtype in schema.items()
    )
