"""The webhook dispatcher: delivers the events the outbox recorded to merchants' endpoints.

    python -m gateway_api.webhooks             # the dispatcher (any number of replicas)
    python -m gateway_api.webhooks.receiver    # a local receiver for development (see --help)
"""
