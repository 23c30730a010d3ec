"""The API's domain: accounts and their secrets, accepted transactions, idempotency, reports.

Standard library only (plus infra.kernel.cards and infra.kernel.contracts, which are standard library too).
"""
