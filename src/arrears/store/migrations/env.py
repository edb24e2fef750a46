"""Alembic environment for the `arrears` schema.

The URL comes from `config.attributes["url"]` (set by `arrears.store.db.alembic_config`); a
developer running the `alembic` command from the repository falls back to
`ARREARS_DATABASE_URL` (or the default SQLite file). SQLite is migrated in batch mode because it
cannot ALTER most things in place.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import URL

from arrears.config import Settings
from arrears.store.db import make_engine, normalise_url
from arrears.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _url() -> URL:
    url = config.attributes.get("url")
    return normalise_url(url if url is not None else Settings.from_env().database_url)


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`) instead of running it."""
    url = _url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.get_backend_name() == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
