"""Alembic environment: runs on the connection sms_core.storage.migrate hands over (or DATABASE_URL)."""

from alembic import context

from sms_core.config import load_config
from sms_core.storage import alert_models, audit_models, reply_models, retention_models, rollup_models  # noqa: F401  (their tables belong to the metadata)
from sms_core.storage.database import Database
from sms_core.storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # the alembic command line: DATABASE_URL
        db = Database(load_config().database_url)
        with db.engine.begin() as conn:
            _run(conn)
        db.dispose()
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
