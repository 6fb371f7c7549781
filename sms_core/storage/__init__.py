"""Storage: the database connection, the typed models, Alembic migrations and the change feed."""
