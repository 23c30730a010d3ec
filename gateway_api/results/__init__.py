"""The results consumer: keeps the API's ledger up to date from `transactions_result`.

    python -m gateway_api.results
"""
