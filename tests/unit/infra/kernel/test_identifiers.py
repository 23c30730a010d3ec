from infra.kernel.identifiers import loggable
from infra.runtime.redaction import mask_card_numbers


def test_a_draw_the_log_masking_would_hide_is_drawn_again():
    draws = iter(["4f1e9a2c-1234-5678-9012-3456789abcde", "pay_0123456789012", "pay_01234567890ab"])
    assert loggable(lambda: next(draws)) == "pay_01234567890ab"
    assert mask_card_numbers("pay_01234567890ab") == "pay_01234567890ab"
    assert mask_card_numbers("pay_0123456789012") != "pay_0123456789012"  # why the second draw went too
