"""Card data sent on purpose, and a scanner that finds it again wherever it should not be.

PCI DSS: the full card number may never be readable where the gateway keeps it (DB rows, logs,
Kafka topics, error answers), and the CVV may not be kept at all, in any form. The traffic below
uses card numbers and CVVs that no other test sends, so a finding is this traffic's own leak
whatever else ran before, and it reaches every path a card can take: accepted in every format
the API takes (spaced, dashed, double-spaced), refused with every error the API answers, and
written straight to `transactions` as messages only the dead-letter queue takes.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field

import requests

from infra.runtime.kafka import KafkaSettings, Record, build_acked_producer

# A separator run between two digits, as people type numbers: "4012 8888", "4012-8888", "4012 - 8888".
_SEPARATORS = re.compile(r"(?<=\d)[ \t\-]+(?=\d)")
# Tokens as a value shows up in JSON, a log line or a repr: a CVV is leaked when one is exactly it.
_TOKENS = re.compile(r"[\w.]+")
_LINE_NUMBERS = re.compile(r"\bline \d+")
# Random values no card datum can hide in, whose digit groups match a CVV by chance: a UUID's groups
# (a transaction id with "-5273-" in it, ~1 in 65,000 ids) and a sealed card's base64 ("Q+947/...",
# a few in 10,000 ciphertexts). A bench run on the shared stack makes thousands of both. And pytest's
# temporary folder in a logged database URL (pytest-of-root/pytest-582: one more per run on a machine).
# Numbers the services make themselves: a process id in a log line ("pid": 947, gunicorn's "Booting
# worker with pid: 947", "Worker (pid:947)", "Listening at: http://... (947)" once the machine's pids
# wrap) and a dead letter's source offset on a shared topic.
_OPAQUE = re.compile(
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|(?<=\"ct\": \")[A-Za-z0-9+/=]+"
    r"|pytest-of-[^/\s]+/pytest-\d+"
    r"|\"pid\": \d+|\bpid: ?\d+|Listening at: \S+ \(\d+\)|\"source_offset\": ?\d+"
)
_DIGITS = re.compile(r"\d")


def digits(number: str) -> str:
    return re.sub(r"\D", "", number)


@dataclass
class CardDataScanner:
    """Knows what was sent; tells where it shows up again."""

    numbers: set[str] = field(default_factory=set)  # digits only
    cvvs: set[str] = field(default_factory=set)
    holders: set[str] = field(default_factory=set)

    def sent(self, number: str, cvv: str | None = None, holder: str | None = None) -> None:
        self.numbers.add(digits(number))
        if cvv is not None:
            self.cvvs.add(str(cvv))
        if holder:
            self.holders.add(holder)

    def findings(self, where: str, text: str) -> list[str]:
        """What of the sent card data ``text`` holds, each as ``where: what`` (never the data itself)."""
        squashed = _SEPARATORS.sub("", text)
        found = [f"{where}: card number ending {n[-4:]}" for n in sorted(self.numbers) if n in squashed]
        found += [f"{where}: the cardholder's name" for holder in sorted(self.holders) if holder in text]
        # A traceback's "line 233" is a line number, whatever CVVs were sent.
        text = _OPAQUE.sub("#", _LINE_NUMBERS.sub("line #", text))
        for match in _TOKENS.finditer(text):
            if match.group(0) in self.cvvs:
                context = _DIGITS.sub("#", text[max(match.start() - 60, 0) : match.start()])
                found.append(f"{where}: CVV {'*' * len(match.group(0))} (sent with a card) after {context!r}")
        return found


# Numbers (not used by any other test that reaches a running service) in the formats the API accepts.
ACCEPTED = [
    ("10.00", "4012888888881881", "947"),  # visa, plain
    ("11.00", "5105 1051 0510 5100", "862"),  # mastercard, spaced
    ("12.00", "3714-496353-98431", "5273"),  # amex, dashed, 4-digit CVV
    ("13.00", "6011  0009  9013  9424", "318"),  # discover, double spaces
    ("14.00", "3566 - 0020 - 2036 - 0505", "604"),  # jcb, spaced dashes
    ("15.00", "6362 9700 0045 7013", "729"),  # elo
    ("16.00", "6062-8267-8627-6634", "835"),  # hipercard
    ("17.00", "4012888888881882", "461"),  # fails the Luhn check: rejected, still card data
    ("5000", "5200828282828210", "593"),  # over the limit: rejected
]


HOLDER = "Pat Card"


def card(number: str, cvv, **changes) -> dict:
    return {"number": number, "name": HOLDER, "expiration_month": 12, "expiration_year": 2099, "cvv": cvv} | changes


@dataclass
class Answer:
    status: int
    body: str


class CardTraffic:
    """Sends the card traffic to an API at ``url`` as ``merchant`` and remembers what it sent."""

    def __init__(self, url: str, merchant: tuple[str, str], admin_token: str, scanner: CardDataScanner):
        self.url = url
        self.merchant = merchant
        self.admin_token = admin_token
        self.scanner = scanner
        self.accepted_ids: list[str] = []
        self.answers: list[Answer] = []

    def send_all(self) -> None:
        for amount, number, cvv in ACCEPTED:
            self.accepted_ids.append(self._expect(202, {"amount": amount, "credit_card": card(number, cvv)})["id"])
        self._refused()

    def _refused(self) -> None:
        """Every error the API answers to a body that holds a card, each with a CVV of its own."""
        n = "4012 8888 8888 1881"
        self._expect(422, {"credit_card": card(n, "214")})  # amount missing
        self._expect(422, {"amount": "ten", "credit_card": card(n, "215")})
        self._expect(422, {"amount": "10.001", "credit_card": card(n, "216")})
        self._expect(422, {"amount": "10.00", "currency": "EUR", "credit_card": card(n, "217")})
        self._expect(422, {"amount": "10.00", "credit_card": card(n, "218", expiration_month="12")})
        self._expect(422, {"amount": "10.00", "credit_card": card(n, "219", name=None)})
        self._expect(422, {"amount": "10.00", "credit_card": card(n, "220", expiration_year=2030.5)})
        self._expect(422, {"amount": "10.00", "credit_card": card(n, "221943582")})  # CVV too long
        self._expect(422, {"amount": "10.00", "credit_card": card(n + " x", "222")})  # not only digits
        self._expect(422, {"amount": "10.00", "credit_card": card(4012888888881881, "223")})  # number as int
        self._expect(422, {"amount": "10.00", "description": "x" * 300, "credit_card": card(n, "224")})
        self._expect(422, [{"amount": "10.00", "credit_card": card(n, "225")}])
        self._expect(400, {"amount": "10.00", "credit_card": card(n, "226")}, send_as=lambda text: text[:-5])
        self._expect(415, {"amount": "10.00", "credit_card": card(n, "227")}, content_type="text/plain")
        self._expect(413, {"amount": "10.00", "description": "x" * 20000, "credit_card": card(n, "228")})
        self._expect(401, {"amount": "10.00", "credit_card": card(n, "229")}, auth=(self.merchant[0], "wrong"))
        self._expect(403, {"amount": "10.00", "credit_card": card(n, "231")}, auth="admin")
        self._expect(404, {"amount": "10.00", "credit_card": card(n, "232")}, path="/v1/transactionz")
        self._expect(405, {"amount": "10.00", "credit_card": card(n, "233")}, method="PUT")
        self._expect(422, {"amount": "10.00", "credit_card": card(n, "234")}, key="k" * 300)  # bad key
        key = f"card-data-{uuid.uuid4().hex}"
        self.accepted_ids.append(self._expect(202, {"amount": "10.00", "credit_card": card(n, "235")}, key=key)["id"])
        self._expect(409, {"amount": "11.00", "credit_card": card(n, "236")}, key=key)  # same key, another body

    def _expect(
        self,
        status: int,
        body,
        send_as=lambda text: text,
        content_type: str = "application/json",
        auth=None,
        path: str = "/v1/transactions",
        method: str = "POST",
        key: str | None = None,
    ) -> dict:
        for item in body if isinstance(body, list) else [body]:
            self.scanner.sent(
                str(item["credit_card"]["number"]), str(item["credit_card"]["cvv"]), item["credit_card"].get("name")
            )
        headers = {"Content-Type": content_type, "Authorization": self._authorization(auth)}
        if key is not None:
            headers["Idempotency-Key"] = key
        response = requests.request(
            method, self.url + path, data=send_as(json.dumps(body)).encode(), headers=headers, timeout=30
        )
        self.answers.append(Answer(response.status_code, response.text))
        assert response.status_code == status, (status, response.status_code, response.text[:300])
        return response.json()

    def _authorization(self, auth) -> str:
        if auth == "admin":
            return f"Bearer {self.admin_token}"
        account, secret = auth or self.merchant
        return "Basic " + base64.b64encode(f"{account}:{secret}".encode()).decode()


# Messages written straight to `transactions` that the processor can only dead-letter, card data inside:
# (number, CVV, payload); each payload carries DEAD_LETTER_MARK, to find its letter again.
DEAD_LETTER_MARK = "card-data-scan"
DEAD_LETTER_KEY = b"card-data-scan"
DEAD_LETTERS = [
    (
        "4012 8888 8888 1881",
        "241",
        b'{"note": "card-data-scan", "amount": "10.00", '
        b'"credit_card_number": "4012 8888 8888 1881", "credit_card_cvv": "241"}',
    ),  # no id
    (
        "5105-1051-0510-5100",
        "242",
        json.dumps(
            {
                "id": "x" * 101,
                "note": DEAD_LETTER_MARK,
                "credit_card_number": "5105-1051-0510-5100",
                "credit_card_cvv": 242,
            }
        ).encode(),
    ),
    (
        "3714 496353 98431",
        "2437",
        b'{"id": "card-data-scan cut short", "credit_card_number": "3714 496353 98431", "credit_card_cvv": "2437',
    ),  # not JSON
    (
        "6011  0009  9013  9424",
        "244",
        b'{"id": "card-data-scan double spaced", "credit_card_number": "6011  0009  9013  9424", "cvv": "244"',
    ),  # not JSON
]


def send_dead_letters(kafka: KafkaSettings, scanner: CardDataScanner) -> int:
    """Write the dead letters to `transactions`; how many were written."""
    for number, cvv, _payload in DEAD_LETTERS:
        scanner.sent(number, cvv)
    records = [Record(kafka.topics.transactions, payload, DEAD_LETTER_KEY) for _, _, payload in DEAD_LETTERS]
    build_acked_producer(kafka, "card-data-scan").send(records, timeout=30)
    return len(records)
