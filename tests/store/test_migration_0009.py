"""Migration 0009 on a database that already holds third-party data (SQLite and PostgreSQL):
existing consents, reports and pulls become the borrower's party, and pulls keep working."""

from __future__ import annotations

from sqlalchemy import text

from arrears.store.db import make_engine, upgrade


def test_existing_bureau_rows_become_the_borrowers_party(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0008")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO borrowers (borrower_id, kind, name, timezone, language, country) "
                    "VALUES ('B1', 'individual', 'Li', 'Asia/Shanghai', 'zh', 'CN')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO bureau_consents (borrower_id, purpose, sources, granted_by, "
                    "granted_at, expires_at) VALUES ('B1', 'collection', 'tax', 'ops', "
                    "'2026-01-01 00:00:00+00', '2027-01-01 00:00:00+00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO bureau_pulls (borrower_id, source, purpose, requested_by, "
                    "requested_at, outcome, attempts) VALUES ('B1', 'tax', 'collection', 'ops', "
                    "'2026-01-02 00:00:00+00', 'refused', 0)"
                )
            )
        engine.dispose()
        upgrade(empty_db_url)
        engine = make_engine(empty_db_url)
        with engine.connect() as conn:
            for table in ("bureau_consents", "bureau_pulls"):
                rows = conn.execute(text(f"SELECT party, borrower_id FROM {table}")).all()
                assert [tuple(r) for r in rows] == [("borrower:B1", "B1")], table
        from arrears.bureau.service import pull_log

        assert [r["party"] for r in pull_log(engine, "B1")] == ["borrower:B1"]
    finally:
        engine.dispose()
