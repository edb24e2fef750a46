"""The storage layer: the typed SQLAlchemy tables, the engine and unit of work, the Alembic
migrations (shipped inside the package so an installed `arrears` can upgrade its own database),
the append-only event log, and the repository that turns rows into the domain values of
`arrears.loans` and back. Row-at-a-time changes go through the repository; millions of rows (the
import, the close of business) go through `bulk.Writer`, which writes whole frames with
`executemany` or COPY. Nothing inside this package holds a business rule — it
stores what the domain decides.
"""
