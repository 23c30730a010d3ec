import dataclasses

import pytest

from gateway_api import create_app
from tests.integration.gateway_api.support import create_merchant, transaction_body
from tests.support.ports import refusing_port


@pytest.fixture
def offline_client(api_settings):
    """The API pointed at a port where no broker listens (and none can start listening meanwhile)."""
    with refusing_port() as port:
        kafka = dataclasses.replace(api_settings.kafka, bootstrap_servers=f"127.0.0.1:{port}")
        app = create_app(dataclasses.replace(api_settings, kafka=kafka, publish_timeout_seconds=1.0))
        yield app.test_client()
        app.extensions["gateway_api"].publisher.close(timeout=0)
        app.extensions["gateway_api"].engine.dispose()


def test_no_broker_ack_means_503_with_retry_after_and_no_ledger_row(offline_client):
    merchant = create_merchant(offline_client)
    response = offline_client.post(
        "/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json["error"]["type"] == "api_error" and response.json["error"]["code"] == "broker_unavailable"
    assert offline_client.get("/v1/transactions", auth=merchant).json["data"] == []


def test_readiness_reports_the_missing_broker(offline_client):
    response = offline_client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "broker": "unavailable"}


def test_readiness_and_liveness_with_everything_up(client):
    assert client.get("/healthz").json == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["checks"] == {"database": "ok", "broker": "ok"}
