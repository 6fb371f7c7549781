"""Storage: the database connection, the typed models, Alembic migrations and the change feed."""

# Every table in one metadata, whichever module is imported first: a foreign key to a table whose
# model was never imported cannot be resolved when a row is written.
from sms_core.storage import api_models, models  # noqa: E402, F401
