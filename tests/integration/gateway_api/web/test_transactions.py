import pytest

from infra.kernel.contracts import TRANSACTION_FIELDS

from tests.integration.gateway_api.support import (
    ADMIN,
    TEST_CARD,
    TEST_CVV,
    card,
    create_merchant,
    decoded,
    transaction_body,
)
from tests.support.kafka import read_messages
from tests.support.transactions import TEST_CIPHER


def test_accepts_a_transaction_after_the_broker_ack_and_publishes_the_contract_message(
    client, merchant, kafka_settings
):
    response = client.post("/v1/transactions", json=transaction_body(), auth=merchant)

    assert response.status_code == 202
    body = response.json
    assert body["status"] == "pending" and body["amount"] == "10.50"
    assert body["card"] == {"brand": "visa", "last4": "1111"}
    assert response.headers["Location"] == f"/v1/transactions/{body['id']}"
    [message] = decoded(read_messages(kafka_settings, kafka_settings.topics.transactions))
    assert tuple(message) == TRANSACTION_FIELDS
    assert message["id"] == body["id"] and message["account_id"] == merchant[0]
    assert message["amount"] == "10.50" and message["created_at"] == body["created_at"]
    # The card travels encrypted under the first CARD_DATA_KEYS key, bound to this transaction.
    raw = read_messages(kafka_settings, kafka_settings.topics.transactions)[0].value().decode()
    # (The CVV as a JSON value: three digits may well occur inside random base64.)
    assert (
        TEST_CARD not in raw and f'"{TEST_CVV}"' not in raw and f": {TEST_CVV}" not in raw and "Ada Lovelace" not in raw
    )
    assert message["card"]["kid"] == "test-1"
    opened = TEST_CIPHER.open(message["card"], body["id"], merchant[0], "10.50")
    # Of the CVV only its length travels, even sealed: the value never leaves the API (issue 23).
    assert opened == {
        "number": TEST_CARD,
        "name": "Ada Lovelace",
        "expiration_month": 12,
        "expiration_year": 2099,
        "cvv_length": len(TEST_CVV),
    }


def test_the_message_key_is_the_account_id(client, merchant, kafka_settings):
    client.post("/v1/transactions", json=transaction_body(), auth=merchant)
    [message] = read_messages(kafka_settings, kafka_settings.topics.transactions)
    assert message.key() == merchant[0].encode()


def test_business_limits_are_left_to_the_processor(client, merchant):
    response = client.post("/v1/transactions", json=transaction_body(amount=5000), auth=merchant)
    assert response.status_code == 202 and response.json["amount"] == "5000.00"


def test_accepts_a_json_number_amount_and_an_unknown_brand(client, merchant):
    response = client.post(
        "/v1/transactions", json=transaction_body(amount=10.5, credit_card=card(number="1234567890123")), auth=merchant
    )
    assert response.status_code == 202
    assert response.json["amount"] == "10.50" and response.json["card"] == {"brand": None, "last4": "0123"}


def test_reads_back_its_pending_transaction_without_card_data(client, merchant):
    created = client.post("/v1/transactions", json=transaction_body(), auth=merchant).json
    response = client.get(f"/v1/transactions/{created['id']}", auth=merchant)
    assert response.status_code == 200
    assert response.json == created | {
        "account_id": merchant[0],
        "description": "order 42",
        "error_message": "",
        "processed_at": None,
        "amount_refunded": "0.00",
    }


def test_another_merchants_transaction_is_not_found(client, merchant, other_merchant):
    created = client.post("/v1/transactions", json=transaction_body(), auth=merchant).json
    response = client.get(f"/v1/transactions/{created['id']}", auth=other_merchant)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "resource_missing"
    assert client.get("/v1/transactions/nope", auth=merchant).status_code == 404


def test_admin_reads_any_transaction_and_filters_lists_by_account(client, merchant, other_merchant):
    mine = client.post("/v1/transactions", json=transaction_body(), auth=merchant).json
    client.post("/v1/transactions", json=transaction_body(), auth=other_merchant)
    assert client.get(f"/v1/transactions/{mine['id']}", headers=ADMIN).status_code == 200
    assert len(client.get("/v1/transactions", headers=ADMIN).json["data"]) == 2
    filtered = client.get(f"/v1/transactions?account_id={merchant[0]}", headers=ADMIN).json["data"]
    assert [t["id"] for t in filtered] == [mine["id"]]


def test_a_merchant_cannot_list_another_account(client, merchant, other_merchant):
    response = client.get(f"/v1/transactions?account_id={other_merchant[0]}", auth=merchant)
    assert response.status_code == 422 and response.json["error"]["param"] == "account_id"


def test_lists_newest_first_with_cursor_pagination(client, merchant, other_merchant):
    ids = [client.post("/v1/transactions", json=transaction_body(), auth=merchant).json["id"] for _ in range(5)]
    client.post("/v1/transactions", json=transaction_body(), auth=other_merchant)
    first = client.get("/v1/transactions?limit=2", auth=merchant).json
    second = client.get(f"/v1/transactions?limit=2&starting_after={first['data'][-1]['id']}", auth=merchant).json
    third = client.get(f"/v1/transactions?limit=2&starting_after={second['data'][-1]['id']}", auth=merchant).json
    listed = [t["id"] for page in (first, second, third) for t in page["data"]]
    assert listed == ids[::-1]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert client.get("/v1/transactions?status=approved", auth=merchant).json == {"data": [], "has_more": False}


def test_a_cursor_from_another_merchant_is_refused(client, merchant, other_merchant):
    theirs = client.post("/v1/transactions", json=transaction_body(), auth=other_merchant).json["id"]
    response = client.get(f"/v1/transactions?starting_after={theirs}", auth=merchant)
    assert response.status_code == 422 and response.json["error"]["param"] == "starting_after"


def test_a_disabled_account_can_no_longer_authenticate(client):
    account_id, secret = create_merchant(client, "Closing")
    assert client.delete(f"/v1/accounts/{account_id}", headers=ADMIN).json["disabled"] is True
    assert client.post("/v1/transactions", json=transaction_body(), auth=(account_id, secret)).status_code == 401


def test_the_status_filter_pages_through_matching_rows_only(app, client, merchant, other_merchant):
    from infra.kernel.contracts import TransactionResult

    def created(account, status=None):
        transaction = client.post("/v1/transactions", json=transaction_body(), auth=account).json
        if status:
            app.extensions["gateway_api"].ledger.apply_results(
                [
                    TransactionResult(
                        transaction["id"],
                        status,
                        "credit card expired" if status == "rejected" else "",
                        account[0],
                        transaction["amount"],
                        "visa",
                        "1111",
                        transaction["created_at"],
                        transaction["created_at"],
                    )
                ]
            )
        return transaction["id"]

    statuses = ["rejected", "approved", "rejected", None, "rejected", "approved", "rejected"]
    ids = [created(merchant, status) for status in statuses]
    created(other_merchant, "rejected")

    def pages(status):
        listed, cursor = [], ""
        while True:
            page = client.get(f"/v1/transactions?status={status}&limit=2{cursor}", auth=merchant).json
            assert {t["status"] for t in page["data"]} <= {status}
            listed.append([t["id"] for t in page["data"]])
            if not page["has_more"]:
                return listed
            cursor = f"&starting_after={page['data'][-1]['id']}"

    newest_first = ids[::-1]
    rejected = [i for i, status in zip(newest_first, statuses[::-1]) if status == "rejected"]
    assert pages("rejected") == [rejected[:2], rejected[2:]]
    assert pages("approved") == [[i for i, status in zip(newest_first, statuses[::-1]) if status == "approved"]]
    assert pages("pending") == [[ids[3]]]


@pytest.mark.parametrize(
    "hostile", ["x" * 5000, "tx%C3%A9%E4%B8%AD", "%D9%A4%D9%A1", "%ED%A0%80", "%00", "%27%20OR%201%3D1"]
)
def test_a_hostile_transaction_id_in_the_url_is_not_found(client, merchant, hostile):
    response = client.get(f"/v1/transactions/{hostile}", auth=merchant)
    assert response.status_code == 404 and response.json["error"]["code"] == "resource_missing"
