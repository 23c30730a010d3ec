"""An app that stops hands back everything it holds: after ``Services.close()`` no connection of its pool
is checked out. The group commit keeps one connection between commits; left to the GC, its pool rolled it
back from a finalizer in the middle of a later test (CI: on a MariaDB connection its test had cut)."""

from __future__ import annotations

from gateway_api import create_app
from tests.integration.gateway_api.support import create_merchant, transaction_body


def test_closing_the_services_hands_back_the_group_commits_connection(api_settings):
    app = create_app(api_settings)
    services = app.extensions["gateway_api"]
    client = app.test_client()
    assert client.post("/v1/transactions", json=transaction_body(), auth=create_merchant(client)).status_code == 202
    assert services.engine.pool.checkedout() == 1, "the group commit holds its connection between commits"

    services.close()

    assert services.engine.pool.checkedout() == 0
