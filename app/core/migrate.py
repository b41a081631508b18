"""Run the Alembic migrations from code: no ``alembic.ini``, the scripts ship in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

# app/migrations: beside the rooms, since its env.py loads every room's tables (app.models)
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for the packaged migrations; ``url`` overrides the settings' URL.

    Also the way to write the next migration::

        from alembic import command
        command.revision(alembic_config(), "add payments", autogenerate=True, rev_id="0002")

    Examples
    --------
    >>> alembic_config("sqlite:///x.db").get_main_option("sqlalchemy.url")
    'sqlite:///x.db'
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Revisions are numbered 0001, 0002, ... so the directory listing is the history.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        # ConfigParser interpolates "%": URL-encoded passwords would break without doubling.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None) -> None:
    """Migrate the database at ``url`` (default: ``get_settings().database_url``) to head."""
    command.upgrade(alembic_config(url), "head")
