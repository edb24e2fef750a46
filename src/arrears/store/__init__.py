"""The storage layer: the typed SQLAlchemy tables, the engine and unit of work, the Alembic
migrations (shipped inside the package so an installed `arrears` can upgrade its own database),
the append-only event log, and the repository that turns rows into the domain values of
`arrears.loans` and back. Nothing outside this package writes SQL; nothing inside it holds a
business rule — it stores what the domain decides.
"""
