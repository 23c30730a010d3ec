"""The card as the processor sees it: a value object that never shows its number, and never holds a CVV."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.kernel import cards

# Why a message's card fields could not be read; the first two rules reject such a transaction.
NOT_ENCRYPTED = "not encrypted"  # clear card fields while ACCEPT_PLAINTEXT_CARDS is off
UNDECRYPTABLE = "undecryptable"  # unknown key id, tampered or malformed ciphertext


@dataclass(frozen=True)
class CreditCard:
    """Raw card fields as received; the rules decide whether they are valid.

    ``expiration_month``/``expiration_year`` are None when the input was not an integer;
    ``cvv_length`` is how many digits the CVV has (None when it is not made of digits): all the CVV
    rule checks, and all the message carries (docs/threat-model-card-data.md). The brand
    and last four digits are derived once, on creation (the rules and the outcome both need them).
    ``unreadable`` says why the fields are empty when they could not be read at all.
    """

    number: str = field(repr=False)
    holder_name: str = field(repr=False)
    expiration_month: int | None
    expiration_year: int | None
    cvv_length: int | None
    unreadable: str | None = None
    brand: str | None = field(init=False)
    last4: str | None = field(init=False)  # None unless the number is made of (at least 4) digits

    def __post_init__(self) -> None:
        digits = cards.normalize_number(self.number)
        is_digits = digits.isdigit() and digits.isascii()
        object.__setattr__(self, "brand", cards.card_brand(digits) if is_digits else None)
        object.__setattr__(self, "last4", digits[-4:] if is_digits and len(digits) >= 4 else None)

    def has_valid_number(self) -> bool:
        return self.brand is not None and cards.passes_luhn(self.number)

    def __repr__(self) -> str:
        return f"CreditCard(brand={self.brand!r}, last4={self.last4!r}, holder_name=..., expiration=...)"
