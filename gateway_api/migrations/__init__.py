"""Alembic migrations of the API's ledger (version table ``gateway_alembic_version``)."""

SCRIPT_LOCATION = "gateway_api:migrations"
VERSION_TABLE = "gateway_alembic_version"
