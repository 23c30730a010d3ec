"""Adapters to the outside: the SQL ledger (SQLAlchemy 2 Core) and the Kafka publisher."""
