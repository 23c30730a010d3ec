import base64

import pytest

from infra.kernel.principals import ADMIN, MERCHANT, Principal

from panel.domain.credential import Credential


@pytest.mark.parametrize(
    "principal, account, visible",
    [
        (Principal(MERCHANT, "A"), "A", True),
        (Principal(MERCHANT, "A"), "B", False),
        (Principal(MERCHANT, "A"), "", False),
        (Principal(ADMIN), "B", True),
    ],
)
def test_merchants_see_only_their_own_account_and_operators_see_all(principal, account, visible):
    assert principal.may_see(account) is visible


def test_a_merchant_cannot_widen_its_scope_but_an_operator_can_narrow_it():
    assert Principal(MERCHANT, "A").scope("B") == "A"
    assert Principal(MERCHANT, "A").scope(None) == "A"
    assert Principal(ADMIN).scope("B") == "B"
    assert Principal(ADMIN).scope("") is None


def test_credentials_become_the_gateway_api_authorization_headers():
    merchant = Credential.merchant("acc_1", "s3cret")
    assert merchant.authorization() == "Basic " + base64.b64encode(b"acc_1:s3cret").decode()
    assert Credential.admin("tok").authorization() == "Bearer tok"
    assert "s3cret" not in repr(merchant)


def test_a_session_token_is_presented_as_a_bearer_token_and_never_shown():
    token = Credential.session("sess_abc")
    assert token.authorization() == "Bearer sess_abc" and "sess_abc" not in repr(token)
