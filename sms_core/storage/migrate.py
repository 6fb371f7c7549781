"""Bring a database's schema up to date with the Alembic revisions in sms_core/storage/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.exc import OperationalError

from sms_core.storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection=None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(db: Database, revision: str = "head") -> None:
    try:
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    except OperationalError as exc:
        raise db.unavailable(exc) from None
