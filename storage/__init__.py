"""SQLAlchemy 2 async models, plain query functions and Alembic migrations."""
