"""Shape validation: exact statuses and the JSON error shape, never a 500, never echoing card data."""

import json

import pytest

from tests.integration.gateway_api.support import ADMIN, TEST_CARD, TEST_CVV, card, transaction_body
from tests.support.kafka import read_messages

CASES = [
    # (name, body, status, code, param)
    ("missing amount", {"credit_card": card()}, 422, "parameter_missing", "amount"),
    ("missing card", {"amount": "10.00"}, 422, "parameter_missing", "credit_card"),
    (
        "missing cvv",
        transaction_body(credit_card={k: v for k, v in card().items() if k != "cvv"}),
        422,
        "parameter_missing",
        "credit_card.cvv",
    ),
    ("three decimals", transaction_body(amount="10.555"), 422, "parameter_invalid", "amount"),
    ("three decimals as number", transaction_body(amount=10.555), 422, "parameter_invalid", "amount"),
    ("amount not a number", transaction_body(amount="ten"), 422, "parameter_invalid", "amount"),
    ("amount boolean", transaction_body(amount=True), 422, "parameter_invalid", "amount"),
    ("amount null", transaction_body(amount=None), 422, "parameter_invalid", "amount"),
    ("amount NaN string", transaction_body(amount="NaN"), 422, "parameter_invalid", "amount"),
    ("amount Infinity string", transaction_body(amount="Infinity"), 422, "parameter_invalid", "amount"),
    ("amount absurdly large", transaction_body(amount="1e400"), 422, "parameter_invalid", "amount"),
    (
        "month as string",
        transaction_body(credit_card=card(expiration_month="12")),
        422,
        "parameter_invalid",
        "credit_card.expiration_month",
    ),
    (
        "year as float",
        transaction_body(credit_card=card(expiration_year=2030.5)),
        422,
        "parameter_invalid",
        "credit_card.expiration_year",
    ),
    (
        "number with letters",
        transaction_body(credit_card=card(number="4111-abcd")),
        422,
        "parameter_invalid",
        "credit_card.number",
    ),
    (
        "number as int",
        transaction_body(credit_card=card(number=4111111111111111)),
        422,
        "parameter_invalid",
        "credit_card.number",
    ),
    ("cvv as list", transaction_body(credit_card=card(cvv=[1])), 422, "parameter_invalid", "credit_card.cvv"),
    # The documented bounds are enforced where they are documented (the processor keeps its own rules).
    ("cvv as integer", transaction_body(credit_card=card(cvv=987)), 422, "parameter_invalid", "credit_card.cvv"),
    ("cvv of 2 digits", transaction_body(credit_card=card(cvv="98")), 422, "parameter_invalid", "credit_card.cvv"),
    ("cvv of 5 digits", transaction_body(credit_card=card(cvv="98765")), 422, "parameter_invalid", "credit_card.cvv"),
    (
        "month 13",
        transaction_body(credit_card=card(expiration_month=13)),
        422,
        "parameter_invalid",
        "credit_card.expiration_month",
    ),
    (
        "month 0",
        transaction_body(credit_card=card(expiration_month=0)),
        422,
        "parameter_invalid",
        "credit_card.expiration_month",
    ),
    (
        "year 0",
        transaction_body(credit_card=card(expiration_year=0)),
        422,
        "parameter_invalid",
        "credit_card.expiration_year",
    ),
    ("unknown field", transaction_body(currency="USD"), 422, "parameter_unknown", "currency"),
    ("card not an object", transaction_body(credit_card="4111111111111111"), 422, "parameter_invalid", "credit_card"),
    ("body is a list", [transaction_body()], 422, "parameter_invalid", None),
    ("description too long", transaction_body(description="x" * 256), 422, "parameter_invalid", "description"),
]


@pytest.mark.parametrize("name, body, status, code, param", CASES, ids=[case[0] for case in CASES])
def test_rejects_bad_shapes_with_a_json_error(client, merchant, name, body, status, code, param):
    response = client.post("/v1/transactions", json=body, auth=merchant)
    assert (response.status_code, response.json["error"]["code"], response.json["error"]["param"]) == (
        status,
        code,
        param,
    )
    assert response.json["error"]["type"] == "invalid_request_error"
    assert TEST_CARD not in response.get_data(as_text=True) and "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("raw", ['{"amount": NaN}', '{"amount": Infinity}', '{"amount": -Infinity}'])
def test_non_finite_json_numbers_are_refused(client, merchant, raw):
    body = raw[:-1] + ', "credit_card": ' + json.dumps(card()) + "}"
    response = client.post("/v1/transactions", data=body, content_type="application/json", auth=merchant)
    assert response.status_code == 422 and response.json["error"]["param"] == "amount"


def test_malformed_json_is_400(client, merchant):
    response = client.post("/v1/transactions", data='{"amount": ', content_type="application/json", auth=merchant)
    assert response.status_code == 400
    assert response.json["error"] == {
        "type": "invalid_request_error",
        "code": "invalid_json",
        "message": "The request body is not valid JSON.",
        "param": None,
    }


def test_a_non_json_content_type_is_415(client, merchant):
    response = client.post(
        "/v1/transactions", data=json.dumps(transaction_body()), content_type="text/plain", auth=merchant
    )
    assert response.status_code == 415 and response.json["error"]["code"] == "unsupported_media_type"


def test_a_form_post_is_415(client, merchant):
    response = client.post("/v1/transactions", data={"amount": "10"}, auth=merchant)
    assert response.status_code == 415
    assert response.json["error"] == {
        "type": "invalid_request_error",
        "code": "unsupported_media_type",
        "message": "Send the body as Content-Type: application/json.",
        "param": None,
    }


def test_a_body_too_large_is_413(client, merchant):
    body = transaction_body(description="x" * 20000)
    response = client.post("/v1/transactions", json=body, auth=merchant)
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"


def test_a_bad_idempotency_key_is_a_422_like_every_invalid_parameter(client, merchant):
    response = client.post(
        "/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": "x" * 256}
    )
    assert response.status_code == 422 and response.json["error"]["param"] == "Idempotency-Key"
    assert response.json["error"]["code"] == "parameter_invalid"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/transactions?stauts=approved",
        "/v1/reports?perod=month",
        "/v1/me?verbose=1",
        "/v1/transactions/tx-1?expand=card",
    ],
)
def test_an_unknown_query_parameter_is_refused_like_an_unknown_body_field(client, merchant, path):
    response = client.get(path, auth=merchant)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "parameter_unknown"
    assert response.json["error"]["param"] == path.split("?")[1].split("=")[0]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/transactions?stauts=approved",
        "/v1/reports?perod=month",
        "/v1/me?verbose=1",
        "/v1/transactions/tx-1?expand=card",
        "/v1/transactions?limit=0",
    ],
)
@pytest.mark.parametrize("auth", [None, ("acct_nobody", "wrong-secret")])
def test_a_caller_without_valid_credentials_learns_nothing_about_the_request_but_401(client, path, auth):
    """Authentication comes before validation: an anonymous caller cannot probe which parameters exist."""
    response = client.get(path, auth=auth)
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == "unauthorized" and "WWW-Authenticate" in response.headers


@pytest.mark.parametrize(
    "path",
    [
        "/v1/transactions?limit=0",
        "/v1/transactions?starting_after=nope",
        "/v1/events?limit=0",
        "/v1/events?starting_after=evt_unknown",
    ],
)
def test_parameter_invalid_has_one_status_wherever_it_comes_from(client, merchant, path):
    response = client.get(path, auth=merchant)
    assert (response.status_code, response.json["error"]["code"]) == (422, "parameter_invalid")


@pytest.mark.parametrize("query, param", [("limit=0", "limit"), ("limit=abc", "limit"), ("status=done", "status")])
def test_bad_list_queries_are_422(client, merchant, query, param):
    response = client.get(f"/v1/transactions?{query}", auth=merchant)
    assert response.status_code == 422 and response.json["error"]["param"] == param


def test_unknown_routes_and_methods_get_json_errors(client, merchant):
    assert client.get("/v1/nothing", auth=merchant).json["error"]["code"] == "resource_missing"
    response = client.put("/v1/transactions", auth=merchant)
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("cvv", TEST_CVV + "000000", "credit_card.cvv: Must be 3 or 4 digits."),
        ("cvv", [TEST_CVV], "credit_card.cvv: Not a valid string."),
        ("number", TEST_CARD + "x", "credit_card.number: Must be the card number digits."),
        ("number", "4111 1111 1111 1111 1111 1111 1111 1111", "credit_card.number: Must be the card number digits."),
    ],
)
def test_an_invalid_card_field_is_named_but_its_value_never_repeated(client, merchant, field, value, message):
    response = client.post("/v1/transactions", json=transaction_body(credit_card=card(**{field: value})), auth=merchant)
    assert response.status_code == 422
    assert response.json["error"] == {
        "type": "invalid_request_error",
        "code": "parameter_invalid",
        "message": message,
        "param": f"credit_card.{field}",
    }
    text = response.get_data(as_text=True)
    assert TEST_CVV not in text and "4111" not in text


LONE_SURROGATE = "\ud800"  # valid JSON ("\ud800"), but no database can store it


@pytest.mark.parametrize("key", [None, "unstorable-1"], ids=["without key", "with Idempotency-Key"])
@pytest.mark.parametrize(
    "body, param",
    [
        (transaction_body(description="order " + LONE_SURROGATE), "description"),
        (transaction_body(credit_card=card(name="Ada " + LONE_SURROGATE)), "credit_card.name"),
        (transaction_body(credit_card=card(cvv="1" + LONE_SURROGATE)), "credit_card.cvv"),
    ],
    ids=["description", "card holder name", "cvv"],
)
def test_text_no_database_can_store_is_a_422_before_anything_is_published(
    client, merchant, kafka_settings, body, param, key
):
    headers = {"Idempotency-Key": key} if key else {}
    response = client.post(
        "/v1/transactions", data=json.dumps(body), content_type="application/json", auth=merchant, headers=headers
    )
    assert (response.status_code, response.json["error"]["code"], response.json["error"]["param"]) == (
        422,
        "parameter_invalid",
        param,
    )
    assert read_messages(kafka_settings, kafka_settings.topics.transactions, timeout=5) == []


def test_an_account_name_no_database_can_store_is_a_422(client):
    response = client.post(
        "/v1/accounts", data=json.dumps({"name": LONE_SURROGATE}), content_type="application/json", headers=ADMIN
    )
    assert (response.status_code, response.json["error"]["param"]) == (422, "name")


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 3000 + "]" * 3000,
        '{"amount": ' + "[" * 3000 + "]" * 3000 + "}",
        '{"amount": ' + "1" * 5000 + ', "credit_card": ' + json.dumps(card()) + "}",
        '{"amount": "1.00", "credit_card": ' + json.dumps(card())[:-1] + ', "expiration_month": ' + "1" * 5000 + "}}",
    ],
    ids=["3000 nested arrays", "nested amount", "5000-digit amount", "5000-digit month"],
)
def test_json_too_deep_or_with_absurd_numbers_is_a_400_not_a_500(client, merchant, raw):
    response = client.post("/v1/transactions", data=raw, content_type="application/json", auth=merchant)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "number", ["4111111111111111\n", "4111111111111111\r\n", "\n4111111111111111", "4111 1111\n1111 1111"]
)
def test_a_card_number_with_a_line_break_is_refused(client, merchant, number):
    response = client.post("/v1/transactions", json=transaction_body(credit_card=card(number=number)), auth=merchant)
    assert (response.status_code, response.json["error"]["param"]) == (422, "credit_card.number")


@pytest.mark.parametrize("key", ["ordre-é-1", "٣٤٥-arabic-digits", "x' OR '1'='1", "%_*?", "k" * 255])
def test_an_unusual_but_printable_idempotency_key_is_claimed_and_replayed_as_itself(client, merchant, key):
    """Through the claim's prepared SELECT/UPDATE (infra.runtime.sql.PreparedForEach): bound as a value, never
    matched as a pattern or SQL, and a second request with the same key answers the first one's id."""
    first = client.post("/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": key})
    again = client.post("/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": key})
    other = client.post(
        "/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": key[:-1] + "!"}
    )

    assert first.status_code == again.status_code == other.status_code == 202, (first.json, again.json)
    assert again.json["id"] == first.json["id"] != other.json["id"]


@pytest.mark.parametrize("key", ["tab\there", "\x00", "\x7f", ""])  # a newline cannot be sent in a header
def test_an_unprintable_or_empty_idempotency_key_is_a_422(client, merchant, key):
    response = client.post("/v1/transactions", json=transaction_body(), auth=merchant, headers={"Idempotency-Key": key})
    assert response.status_code == 422 and response.json["error"]["param"] == "Idempotency-Key"
