"""The card as the processor sees it: a value object that never shows its number, and never holds a CVV."""

from __future__ import annotations

from typing import NamedTuple

from infra.kernel import cards

# Why a message's card fields could not be read; the first two rules reject such a transaction.
NOT_ENCRYPTED = "not encrypted"  # clear card fields while ACCEPT_PLAINTEXT_CARDS is off
UNDECRYPTABLE = "undecryptable"  # unknown key id, tampered or malformed ciphertext


class CreditCard(NamedTuple):
    """Raw card fields as received; the rules decide whether they are valid. Build it with :meth:`of`.

    ``expiration_month``/``expiration_year`` are None when the input was not an integer;
    ``cvv_length`` is how many digits the CVV has (None when it is not made of digits): all the CVV
    rule checks, and all the message carries (docs/threat-model-card-data.md). The brand
    and last four digits are derived once, by :meth:`of` (the rules and the outcome both need them).
    ``unreadable`` says why the fields are empty when they could not be read at all.
    A named tuple, like the transaction that holds it (processor.domain.transaction says why).
    """

    number: str
    holder_name: str
    expiration_month: int | None
    expiration_year: int | None
    cvv_length: int | None
    unreadable: str | None = None
    brand: str | None = None
    last4: str | None = None  # None unless the number is made of (at least 4) digits

    @classmethod
    def of(
        cls,
        number: str,
        holder_name: str,
        expiration_month: int | None,
        expiration_year: int | None,
        cvv_length: int | None,
        unreadable: str | None = None,
    ) -> "CreditCard":
        digits = cards.normalize_number(number)
        if not (digits.isdigit() and digits.isascii()):
            return cls(number, holder_name, expiration_month, expiration_year, cvv_length, unreadable)
        last4 = digits[-4:] if len(digits) >= 4 else None
        brand = cards.card_brand(digits)
        return cls(number, holder_name, expiration_month, expiration_year, cvv_length, unreadable, brand, last4)

    def has_valid_number(self) -> bool:
        return self.brand is not None and cards.passes_luhn(self.number)

    def __repr__(self) -> str:
        return f"CreditCard(brand={self.brand!r}, last4={self.last4!r}, holder_name=..., expiration=...)"
