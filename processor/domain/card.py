"""The card as the processor sees it: a value object that never shows its number or CVV."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from infra import cards


@dataclass(frozen=True)
class CreditCard:
    """Raw card fields as received; the rules decide whether they are valid.

    ``expiration_month``/``expiration_year`` are None when the input was not an integer.
    """

    number: str = field(repr=False)
    holder_name: str
    expiration_month: int | None
    expiration_year: int | None
    cvv: str = field(repr=False)

    @cached_property
    def digits(self) -> str:
        return cards.normalize_number(self.number)

    @cached_property
    def brand(self) -> str | None:
        return cards.card_brand(self.digits)

    @property
    def last4(self) -> str | None:
        """The last four digits, or None when the number is not made of (at least four) digits."""
        digits = self.digits
        return digits[-4:] if len(digits) >= 4 and digits.isdigit() else None

    def has_valid_number(self) -> bool:
        return self.brand is not None and cards.passes_luhn(self.digits)

    def __repr__(self) -> str:
        return f"CreditCard(brand={self.brand!r}, last4={self.last4!r}, holder_name=..., expiration=...)"
