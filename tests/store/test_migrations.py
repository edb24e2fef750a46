"""The migrations build exactly the schema of `tables.py`, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from arrears.store.db import (
    DatabaseNotReady,
    current_revision,
    head_revision,
    make_engine,
    require_schema,
    unit_of_work,
    upgrade,
)
from arrears.store.repository import load_loan
from arrears.store.tables import Base


def test_upgrade_creates_every_table(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert names == set(Base.metadata.tables) | {"alembic_version"}


def test_migrated_schema_matches_metadata(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(empty_db_url: str) -> None:
    assert current_revision(empty_db_url) is None
    upgrade(empty_db_url)
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == head_revision()


def test_missing_schema_raises_database_not_ready(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        with pytest.raises(DatabaseNotReady, match="arrears db upgrade"):
            require_schema(engine)
        with (
            pytest.raises(DatabaseNotReady, match="arrears db upgrade"),
            unit_of_work(engine) as session,
        ):
            load_loan(session, "L-1")
    finally:
        engine.dispose()


def test_migrated_database_is_ready(engine) -> None:  # type: ignore[no-untyped-def]
    require_schema(engine)


def test_comparison_would_see_a_difference(db_url: str) -> None:
    """Guards the test above: the comparison is live, not vacuously empty."""
    from sqlalchemy import Column, Integer, MetaData, Table

    extended = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(extended)
    Table("not_migrated", extended, Column("id", Integer, primary_key=True))
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), extended)
    finally:
        engine.dispose()
    assert [d[0] for d in diff] == ["add_table"]
