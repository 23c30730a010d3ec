"""The results consumer's launcher: keeps the API's ledger up to date from `transactions_result`.

    python -m gateway_api.results

What it runs is ``gateway_api.entrypoints.results_consumer`` (built by ``bootstrap.build_results_consumer``).
"""
