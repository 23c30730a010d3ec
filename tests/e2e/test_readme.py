"""The docs' Integrate page (docs/integrate.md) is executed: each `curl` example runs as written against
the running stack, and its answer matches the one shown under it; each row of the test inputs tables
gets the outcome the table says. The README's first payment is the page's first example.

In the answers shown, "…" stands for anything (a whole value, or the rest of a text); an object
shows only the fields it checks, a list its first items.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import wait_until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
INTEGRATE = ROOT / "docs" / "integrate.md"
ANY = "…"


@dataclass
class Example:
    command: str
    status: int
    headers: dict[str, str]
    body: str


def integrate_page() -> str:
    return INTEGRATE.read_text()


def examples(text: str | None = None) -> list[Example]:
    """Each ```sh block that runs curl, with the ```http block right after it."""
    found = []
    text = integrate_page() if text is None else text
    for command, answer in re.findall(r"```sh\n(curl .*?)```\n\n```http\n(.*?)```", text, re.S):
        head, _, body = answer.partition("\n\n")
        status_line, *header_lines = head.strip().splitlines()
        headers = dict(line.split(": ", 1) for line in header_lines)
        found.append(Example(command.strip(), int(status_line.split()[1]), headers, body.strip()))
    return found


def payment_inputs() -> list[dict[str, str]]:
    table = integrate_page().split("\n## Test inputs\n", 1)[1].split("\n\n")[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    names = ("amount", "number", "cvv", "other", "status", "message")
    return [dict(zip(names, row)) for row in rows]


def _code(cell: str) -> str:
    """The first `quoted` value of a table cell."""
    match = re.search(r"`([^`]*)`", cell)
    return match.group(1) if match else cell


@pytest.fixture(scope="module")
def merchant(running_stack):
    return running_stack.create_merchant("Integrate test inputs")


def test_the_integrate_page_has_the_examples_this_test_runs():
    assert len(examples()) >= 9 and len(payment_inputs()) >= 10


def test_the_readme_pays_as_the_integrate_page_does():
    (first_payment,) = examples(README.read_text())
    assert (first_payment.command, first_payment.status) == (examples()[0].command, examples()[0].status)


def test_every_curl_example_of_the_integrate_page_answers_what_it_shows(running_stack):
    merchant = running_stack.create_merchant("Integrate examples")  # its own: the answers shown count its payments
    env = os.environ | {
        "API": running_stack.settings.api_url,
        "ACCOUNT_ID": merchant["id"],
        "SECRET": merchant["secret"],
        "GATEWAY_ADMIN_TOKEN": running_stack.settings.admin_token.reveal(),
    }
    for example in examples():
        if "$TRANSACTION_ID" in example.command:
            _wait_until_decided(running_stack, merchant, env["TRANSACTION_ID"])
        if "$REFUND_ID" in example.command:
            _wait_until_refund_decided(running_stack, merchant, env["REFUND_ID"])
        status, headers, body = _run(example.command, env)
        assert status == example.status, (example.command, status, body)
        for name, shown in example.headers.items():
            assert _matches(shown, headers.get(name.lower())), (example.command, name, headers)
        _assert_body(example, body)
        if example.command.startswith('curl -si -u "$ACCOUNT_ID:$SECRET" "$API/v1/transactions" ') and status == 202:
            env.setdefault("TRANSACTION_ID", json.loads(body)["id"])
        if example.command.startswith('curl -si -u "$ACCOUNT_ID:$SECRET" "$API/v1/refunds" ') and status == 202:
            env.setdefault("REFUND_ID", json.loads(body)["id"])


@pytest.mark.parametrize(
    "row", payment_inputs(), ids=lambda row: f"{_code(row['amount'])}-{_code(row['number'])}-{row['status'].split()[0]}"
)
def test_each_test_input_of_the_integrate_page_gets_its_outcome(running_stack, merchant, row):
    card = {
        "number": _code(row["number"]),
        "name": "Ada Lovelace",
        "expiration_month": 12,
        "expiration_year": 2099,
        "cvv": _code(row["cvv"]),
    }
    if row["other"].startswith("expiry"):
        month, year = _code(row["other"]).split("/")
        card |= {"expiration_month": int(month), "expiration_year": int(year)}
    if row["other"].startswith("holder"):
        card["name"] = json.loads(_code(row["other"]))
    status, answer, _ = running_stack.request(
        "POST", "/v1/transactions", {"amount": row["amount"].strip("`"), "credit_card": card}, headers=_basic(merchant)
    )
    if row["status"].startswith("422"):
        assert (status, answer["error"]["code"], answer["error"]["param"]) == (
            422,
            _code(row["status"]),
            re.findall(r"`([^`]*)`", row["message"])[-1],
        ), answer
        return
    assert status == 202, answer
    decided = _wait_until_decided(running_stack, merchant, answer["id"])
    assert (decided["status"], decided["error_message"] or "") == (row["status"], _code(row["message"]))


def _run(command: str, env: dict) -> tuple[int, dict[str, str], str]:
    """The command as a person pastes it into bash; curl -i's answer split into status, headers, body."""
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=30, check=True)
    head, _, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.splitlines()
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body.strip()


def _assert_body(example: Example, body: str) -> None:
    if not example.body:
        return
    if example.body.startswith("{"):
        shown, answered = json.loads(example.body), json.loads(body)
        assert _matches(shown, answered), (example.command, shown, answered)
    else:
        assert _matches(example.body, body.splitlines()[0]), (example.command, body[:300])


def _matches(shown, actual) -> bool:
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(k in actual and _matches(v, actual[k]) for k, v in shown.items())
    if isinstance(shown, list):
        return isinstance(actual, list) and len(actual) >= len(shown) and all(map(_matches, shown, actual))
    if isinstance(shown, str) and ANY in shown:
        before, _, after = shown.partition(ANY)
        return isinstance(actual, str) and actual.startswith(before) and actual.endswith(after)
    return shown == actual


def _basic(merchant: dict) -> dict:
    import base64

    token = base64.b64encode(f"{merchant['id']}:{merchant['secret']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _wait_until_decided(stack, merchant: dict, transaction_id: str) -> dict:
    def decided():
        status, body, _ = stack.request("GET", f"/v1/transactions/{transaction_id}", headers=_basic(merchant))
        return body if status == 200 and body["status"] != "pending" else None

    started = time.monotonic()
    found = wait_until(decided, 10, message=f"a decision on {transaction_id}")
    print(f"{transaction_id}: decided {time.monotonic() - started:.3f}s after the test asked")
    return found


def _wait_until_refund_decided(stack, merchant: dict, refund_id: str) -> dict:
    def decided():
        status, body, _ = stack.request("GET", f"/v1/refunds/{refund_id}", headers=_basic(merchant))
        return body if status == 200 and body["status"] != "pending" else None

    return wait_until(decided, 10, message=f"a decision on {refund_id}")


def refund_inputs() -> list[dict[str, str]]:
    table = integrate_page().split("Refund test inputs", 1)[1].split("\n\n")[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    return [dict(zip(("payment", "refunds", "outcome"), row)) for row in rows]


@pytest.mark.parametrize("row", refund_inputs(), ids=lambda row: row["refunds"].replace("`", ""))
def test_each_refund_test_input_of_the_integrate_page_gets_its_outcome(running_stack, merchant, row):
    amount = re.findall(r"`([^`]*)`", row["payment"])[0]
    status, paid, _ = running_stack.request(
        "POST",
        "/v1/transactions",
        {
            "amount": amount,
            "credit_card": {
                "number": "4111111111111111",
                "name": "Ada Lovelace",
                "expiration_month": 12,
                "expiration_year": 2099,
                "cvv": "123",
            },
        },
        headers=_basic(merchant),
    )
    assert (
        status == 202
        and _wait_until_decided(running_stack, merchant, paid["id"])["status"] == row["payment"].split()[0]
    )
    asks = [None if ask.strip() == "none" else _code(ask) for ask in row["refunds"].replace("then", "").split(",")]
    expected = [part.strip() for part in row["outcome"].split(", then")]
    for ask, outcome in zip(asks, expected, strict=True):
        body = {"transaction": paid["id"]} | ({} if ask is None else {"amount": ask})
        status, answer, _ = running_stack.request("POST", "/v1/refunds", body, headers=_basic(merchant))
        if outcome[0].isdigit():
            assert (status, answer["error"]["code"]) == (int(outcome.split()[0]), _code(outcome)), answer
            continue
        assert status == 202, answer
        decided = _wait_until_refund_decided(running_stack, merchant, answer["id"])
        shown = decided["amount"] if decided["status"] == "succeeded" else decided["failure_reason"]
        assert (decided["status"], shown) == (outcome.split()[0], _code(outcome)), decided


def test_the_openapi_example_of_a_payment_is_approved(running_stack):
    """What the docs' "Try it out" sends by default: a Luhn-valid test card, a future expiry."""
    merchant = running_stack.create_merchant("Try it out")
    _, document, _ = running_stack.request("GET", "/openapi.json")
    example = document["paths"]["/v1/transactions"]["post"]["requestBody"]["content"]["application/json"]["example"]
    status, accepted, _ = running_stack.request("POST", "/v1/transactions", example, headers=_basic(merchant))
    assert status == 202, accepted
    assert _wait_until_decided(running_stack, merchant, accepted["id"])["status"] == "approved"
