"""Persistence: SQLAlchemy 2.0 models, the async engine, Alembic migrations."""
