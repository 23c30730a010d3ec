"""The scanner the card-data tests rely on finds what it is told, in every form, and nothing else."""

import pytest

from tests.support.card_data import CardDataScanner


@pytest.fixture
def scanner():
    scanner = CardDataScanner()
    scanner.sent("4012 8888 8888 1881", "947", "Pat Card")
    return scanner


@pytest.mark.parametrize(
    "text",
    [
        "card 4012888888881881",
        "card 4012 8888 8888 1881",
        "4012-8888-8888-1881",
        "4012  8888 - 8888\t1881",
        "('acct', '4012888888881881', None)",
        '"number": "40128888 88881881"',
    ],
)
def test_finds_the_number_whatever_the_separators(scanner, text):
    assert scanner.findings("here", text) == ["here: card number ending 1881"]


@pytest.mark.parametrize(
    "text", ['{"cvv": "947"}', '{"credit_card_cvv": 947}', "cvv=947", "('x', '947')", '{"security_code": "947"}']
)
def test_finds_the_cvv_as_a_value_of_its_own(scanner, text):
    [finding] = scanner.findings("here", text)
    assert finding.startswith("here: CVV *** (sent with a card) after ") and "947" not in finding


@pytest.mark.parametrize(
    "text",
    [
        "card ************1881",
        '{"cvv": "***"}',
        '"duration_ms": 947.2',
        "acct_a947b",
        "2026-09-47",
        "order 19470",
        "4012888888881",
        'File "x.py", line 947, in f',
        '"id": "5f0c2a1e-0947-4b1d-8a2e-3c4d5e6f7a8b"',
        '"card": {"kid": "dev", "ct": "Q+947/xyz+k=="}',
    ],
)
def test_masked_data_and_look_alikes_are_not_findings(scanner, text):
    assert scanner.findings("here", text) == []


@pytest.mark.parametrize("text", ['{"holder": "Pat Card"}', "name=Pat Card", "('acct', 'Pat Card')"])
def test_finds_the_cardholder_s_name(scanner, text):
    assert scanner.findings("here", text) == ["here: the cardholder's name"]


def test_a_transaction_id_whose_group_reads_like_a_4_digit_cvv_is_not_a_finding():
    scanner = CardDataScanner()
    scanner.sent("3714-496353-98431", "5273")
    assert scanner.findings("row", "('5f0c2a1e-5273-4b1d-8a2e-3c4d5e6f7a8b', 'acct_1', '12.00')") == []
    assert scanner.findings("row", "('5f0c2a1e', '5273')") != []  # the CVV as a value of its own still is
