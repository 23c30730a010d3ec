"""Alembic migrations of the processor's database (``python -m processor migrate``)."""

SCRIPT_LOCATION = "processor:migrations"
# Its own version table, so the processor and the API may share one database without colliding.
VERSION_TABLE = "processor_alembic_version"
