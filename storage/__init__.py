"""Persistence for Firewatch: SQLModel tables, engines and sessions, Alembic migrations."""
