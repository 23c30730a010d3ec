"""One money rule: the parser, the OpenAPI pattern and the API agree on every amount of one table."""

import re

import pytest

from infra.kernel.money import AmountError, parse_amount

from tests.integration.gateway_api.support import transaction_body
from tests.support.amounts import AMOUNT_NUMBERS, AMOUNT_TEXTS


def parsed(value):
    try:
        return parse_amount(value)
    except AmountError:
        return None


def matches_as_json_schema_does(pattern: str, text: str) -> bool:
    """ECMA 262 semantics, which JSON Schema uses: ``$`` is the end of the text, never before a newline."""
    return re.search(pattern.replace("$", r"\Z"), text) is not None


@pytest.mark.parametrize("text, amount", AMOUNT_TEXTS, ids=[repr(t) for t, _ in AMOUNT_TEXTS])
def test_the_parser_the_openapi_pattern_and_the_api_agree_on_every_amount(client, merchant, text, amount):
    pattern = client.get("/openapi.json").json["components"]["schemas"]["TransactionCreate"]["properties"]["amount"][
        "pattern"
    ]
    assert parsed(text) == amount
    assert matches_as_json_schema_does(pattern, text) is (amount is not None)
    response = client.post("/v1/transactions", json=transaction_body(amount=text), auth=merchant)
    if amount is None:
        assert response.status_code == 422, response.json
        assert (response.json["error"]["code"], response.json["error"]["param"]) == ("parameter_invalid", "amount")
    else:
        assert response.status_code == 202, response.json
        assert response.json["amount"] == str(amount)


@pytest.mark.parametrize("number, amount", AMOUNT_NUMBERS, ids=[repr(n)[:20] for n, _ in AMOUNT_NUMBERS])
def test_json_numbers_with_at_most_two_decimals_stay_accepted(client, merchant, number, amount):
    assert parsed(number) == amount
    response = client.post("/v1/transactions", json=transaction_body(amount=number), auth=merchant)
    assert response.status_code == (422 if amount is None else 202), response.json
    if amount is None:
        assert response.json["error"]["param"] == "amount"
