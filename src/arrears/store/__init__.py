"""The storage layer: the typed SQLAlchemy tables, the engine and unit of work, the Alembic
migrations (shipped inside the package so an installed `arrears` can upgrade its own database),
the append-only event log, and the repository that turns rows into the domain values of
`arrears.loans` and back. Row-at-a-time changes go through the repository; the one exception is
the import's bulk path (`arrears.imports.write`), which writes validated frames straight into these
tables with `executemany`/COPY for speed. Nothing inside this package holds a business rule — it
stores what the domain decides.
"""
