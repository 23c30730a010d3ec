"""A client generated from /openapi.json (openapi-python-client, PyPI) names its calls after the
operations (``create_transaction``, not ``post_v1_transactions``) and pays through the real API."""

from __future__ import annotations

import base64
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.slow

CARD = {
    "number": "4111111111111111",
    "name": "Ada Lovelace",
    "expiration_month": 12,
    "expiration_year": 2099,
    "cvv": "123",
}


@pytest.fixture
def generated(server, tmp_path):
    """The package openapi-python-client writes for the running API's document, importable."""
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(requests.get(f"{server}/openapi.json", timeout=10).json()))
    bin_dir = str(Path(sys.executable).parent)  # its post-processing runs ruff from the same environment
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "gateway_client"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
    )
    assert done.returncode == 0 and "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda name: importlib.import_module(f"gateway_client.{name}")
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == "gateway_client" or m.startswith("gateway_client.")]:
            del sys.modules[module]


def test_a_generated_client_pays_and_reads_the_payment_back_with_named_calls(generated, server, merchant):
    account_id, secret = merchant
    token = base64.b64encode(f"{account_id}:{secret}".encode()).decode()
    client = generated("client").Client(base_url=server, headers={"Authorization": f"Basic {token}"})
    body = generated("models").TransactionCreate.from_dict({"amount": "10.50", "credit_card": CARD})

    accepted = generated("api.transactions.create_transaction").sync_detailed(
        client=client, body=body, idempotency_key="order-1"
    )
    payment = generated("api.transactions.get_transaction").sync(client=client, transaction_id=accepted.parsed.id)

    assert accepted.status_code == 202
    assert (payment.id, payment.amount, payment.card.last4) == (accepted.parsed.id, "10.50", "1111")
    operations = {path.stem for path in Path(generated("api").__file__).parent.glob("*/*.py")} - {"__init__"}
    assert {
        "create_transaction",
        "get_transaction",
        "list_transactions",
        "create_refund",
        "get_refund",
        "list_refunds",
        "get_current_account",
        "create_webhook_endpoint",
    } <= operations
    assert not [name for name in operations if "v1" in name]  # without operationIds: post_v1_transactions, ...


def test_every_operation_has_a_unique_camel_case_operation_id(client):
    document = client.get("/openapi.json").json
    ids = [
        operation.get("operationId")
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]

    assert None not in ids and len(ids) == len(set(ids)) == 29
    assert all(name[0].islower() and "_" not in name for name in ids)
