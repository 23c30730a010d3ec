"""What the API promises when its parts fail: the database gone, a bug, the broker gone then back."""

import dataclasses
import logging

import pytest
import sqlalchemy

from infra.runtime.logs import JsonFormatter

from gateway_api import create_app
from tests.integration.gateway_api.support import TEST_CARD, create_merchant, decoded, transaction_body
from tests.support.kafka import read_messages
from tests.support.ports import refusing_port
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def app_behind_a_proxy(api_settings, mysql_url):
    """The API whose MariaDB ledger is reached through a proxy the test can cut."""
    url = sqlalchemy.engine.make_url(mysql_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(dataclasses.replace(api_settings, database_url=proxied))
    yield app, proxy
    app.extensions["gateway_api"].close()
    proxy.cut()


def test_with_the_database_down_requests_get_503_database_unavailable_and_readyz_says_so(app_behind_a_proxy):
    app, proxy = app_behind_a_proxy
    client = app.test_client()
    merchant = create_merchant(client)
    proxy.cut()

    response = client.post("/v1/transactions", json=transaction_body(), auth=merchant)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert response.json == {
        "error": {
            "type": "api_error",
            "code": "database_unavailable",
            "message": "The ledger database is unavailable; retry later.",
            "param": None,
        }
    }
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"] == {"database": "unavailable", "broker": "ok"}

    proxy.restore()
    assert client.post("/v1/transactions", json=transaction_body(), auth=merchant).status_code == 202
    assert client.get("/readyz").status_code == 200


def test_an_unexpected_error_is_a_500_without_its_text_or_a_stack_trace(app, client, merchant, monkeypatch, caplog):
    def broken(_transaction_id):
        raise RuntimeError(f"bug while reading card {TEST_CARD}")

    monkeypatch.setattr(app.extensions["gateway_api"].ledger, "get", broken)
    with caplog.at_level(logging.ERROR, logger="gateway_api.web.errors"):
        response = client.get("/v1/transactions/some-id", auth=merchant)
    assert response.status_code == 500
    assert response.json == {
        "error": {
            "type": "api_error",
            "code": "internal_error",
            "message": "Something went wrong on our side.",
            "param": None,
        }
    }
    assert "Traceback" not in response.get_data(as_text=True) and "bug" not in response.get_data(as_text=True)
    # The operator gets the stack trace in the log, with the card number masked.
    [record] = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    line = JsonFormatter("gateway_api").format(record)
    assert "Traceback" in line and "RuntimeError: bug while reading card" in line and TEST_CARD not in line


def test_a_503_then_a_retry_with_the_same_key_over_the_real_broker_makes_one_id_and_one_row(
    app, client, merchant, api_settings, kafka_settings
):
    with refusing_port() as nowhere:
        offline = dataclasses.replace(api_settings.kafka, bootstrap_servers=f"127.0.0.1:{nowhere}")
        # Another API process on the same ledger, whose broker is unreachable.
        unlucky = create_app(dataclasses.replace(api_settings, kafka=offline, publish_timeout_seconds=1.0))
        refused = unlucky.test_client().post(
            "/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": "order-503"}
        )
        unlucky.extensions["gateway_api"].publisher.close(timeout=0)
        unlucky.extensions["gateway_api"].engine.dispose()
    assert refused.status_code == 503 and refused.json["error"]["code"] == "broker_unavailable"
    assert client.get("/v1/transactions", auth=merchant).json["data"] == []

    retried = client.post(
        "/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": "order-503"}
    )
    again = client.post(
        "/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": "order-503"}
    )
    assert retried.status_code == again.status_code == 202
    assert again.json == retried.json and again.headers["Idempotent-Replayed"] == "true"
    assert [t["id"] for t in client.get("/v1/transactions", auth=merchant).json["data"]] == [retried.json["id"]]
    assert [m["id"] for m in decoded(read_messages(kafka_settings, kafka_settings.topics.transactions))] == [
        retried.json["id"]
    ]
    engine = app.extensions["gateway_api"].engine
    with engine.connect() as connection:  # the id the first attempt claimed is the one the retry used
        claimed = connection.exec_driver_sql("SELECT transaction_id FROM gateway_idempotency_keys").scalars().all()
    assert claimed == [retried.json["id"]]
