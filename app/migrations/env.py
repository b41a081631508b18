"""Alembic environment: the models' metadata, and the URL from the Config or the settings.

Alembic executes this file itself (``app.core.migrate.upgrade``); it is not importable on its own.
"""

from __future__ import annotations

from alembic import context

from app.core.db import make_engine
from app.core.settings import get_settings
from app.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    """Emit the SQL instead of running it (``alembic upgrade --sql``)."""
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a connection made like the application's own."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # Batch mode rebuilds a table by copying it, dropping the old one and renaming
                # the copy: with foreign keys enforced, the drop fails as soon as another
                # table's rows refer to it. SQLite ignores this pragma inside a transaction, so
                # it is set on the driver's connection before the migrations begin one (and
                # the pool's connect hook sets it again on the next connection).
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
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
