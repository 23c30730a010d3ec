"""The webhook dispatcher's launcher: delivers the events the outbox recorded to merchants' endpoints.

    python -m gateway_api.webhooks             # the dispatcher (any number of replicas)
    python -m gateway_api.webhooks.receiver    # a local receiver for development (see --help)

What it runs is ``gateway_api.entrypoints.webhook_dispatcher`` (built by ``bootstrap.build_webhook_dispatcher``).
"""
