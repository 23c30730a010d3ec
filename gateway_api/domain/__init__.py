"""The API's domain: accounts and their secrets, accepted transactions, idempotency, reports.

Standard library only (plus infra.cards and infra.contracts, which are standard library too).
"""
