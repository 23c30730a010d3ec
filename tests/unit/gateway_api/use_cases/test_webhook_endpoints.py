"""The webhook endpoints use case with fakes of its ports: endpoint rules (the fakes and helpers here serve
test_events.py and test_deliver_webhooks.py too)."""

from datetime import datetime

import pytest

from gateway_api.domain.errors import InvalidParameter, LimitExceeded, NotFound
from gateway_api.use_cases.ports import HostResolver, SecretCipher, WebhookEndpointRepository
from gateway_api.use_cases.webhook_endpoints import WebhookEndpoints

NOW = datetime(2026, 11, 23, 10, 0)


class FakeCipher(SecretCipher):
    def encrypt(self, plaintext, context):
        return f"sealed:{context}:{plaintext}"

    def decrypt(self, token, context):
        prefix = f"sealed:{context}:"
        if not token.startswith(prefix):
            raise ValueError("not for this context")
        return token[len(prefix) :]


class FakeResolver(HostResolver):
    def __init__(self, table):
        self.table = table

    def resolve(self, host, port):
        if host not in self.table:
            raise LookupError(host)
        return self.table[host]


class FakeEndpoints(WebhookEndpointRepository):
    def __init__(self):
        self.rows, self.secrets = {}, {}

    def add_within_limit(self, endpoint, secret_token, limit):
        if len(self.endpoints_of(endpoint.account_id)) >= limit:
            return False
        self.rows[endpoint.id], self.secrets[endpoint.id] = endpoint, secret_token
        return True

    def endpoints_of(self, account_id):
        return [e for e in self.rows.values() if e.account_id == account_id and e.status != "deleted"]

    def get(self, account_id, endpoint_id):
        found = self.rows.get(endpoint_id)
        return found if found and found.account_id == account_id and found.status != "deleted" else None

    def delete(self, account_id, endpoint_id):
        from dataclasses import replace

        self.rows[endpoint_id] = replace(self.rows[endpoint_id], status="deleted")

    def set_secret(self, account_id, endpoint_id, secret_token):
        self.secrets[endpoint_id] = secret_token


PUBLIC = {"shop.example.com": ["93.184.216.34"], "internal.example.com": ["93.184.216.34", "10.0.0.7"]}


def endpoints_use_case(allow_private=False, resolver=None):
    repository = FakeEndpoints()
    use_case = WebhookEndpoints(repository, FakeCipher(), resolver or FakeResolver(PUBLIC), lambda: NOW, allow_private)
    return use_case, repository


def test_an_endpoint_is_stored_with_its_secret_sealed_to_its_id():
    use_case, repository = endpoints_use_case()
    issued = use_case.create("acct_a", " https://shop.example.com/hook ", ["*"], "orders")
    assert issued.endpoint.url == "https://shop.example.com/hook"
    assert repository.secrets[issued.endpoint.id] == f"sealed:{issued.endpoint.id}:{issued.secret}"
    rolled = use_case.roll_secret("acct_a", issued.endpoint.id)
    assert rolled.secret != issued.secret and repository.secrets[issued.endpoint.id].endswith(rolled.secret)


@pytest.mark.parametrize("url", ["https://internal.example.com/hook", "https://unknown.example.com/hook"])
def test_a_host_with_any_private_address_or_none_is_refused_with_one_message(url):
    use_case, repository = endpoints_use_case()
    with pytest.raises(InvalidParameter, match="public internet addresses only") as refused:
        use_case.create("acct_a", url, ["*"])
    assert "10.0.0.7" not in refused.value.message and repository.rows == {}


def test_the_development_flag_allows_http_and_private_addresses():
    use_case, _ = endpoints_use_case(allow_private=True, resolver=FakeResolver({"127.0.0.1": ["127.0.0.1"]}))
    assert use_case.create("acct_a", "http://127.0.0.1:8010/", ["*"]).endpoint.url == "http://127.0.0.1:8010/"


def test_the_17th_endpoint_is_refused_and_deleting_one_makes_room():
    use_case, _ = endpoints_use_case()
    created = [use_case.create("acct_a", "https://shop.example.com/hook", ["*"]) for _ in range(16)]
    with pytest.raises(LimitExceeded, match="16"):
        use_case.create("acct_a", "https://shop.example.com/hook", ["*"])
    assert use_case.create("acct_b", "https://shop.example.com/hook", ["*"])
    use_case.delete("acct_a", created[0].endpoint.id)
    assert use_case.create("acct_a", "https://shop.example.com/hook", ["*"])


def test_another_merchants_endpoint_is_not_found():
    use_case, _ = endpoints_use_case()
    endpoint = use_case.create("acct_a", "https://shop.example.com/hook", ["*"]).endpoint
    for action in (use_case.get, use_case.delete, use_case.roll_secret):
        with pytest.raises(NotFound):
            action("acct_b", endpoint.id)


def test_an_endpoint_url_is_stored_as_ascii_after_idna_and_percent_encoding():
    resolver = FakeResolver({"xn--bcher-kva.example": ["93.184.216.34"], "own.example": ["93.184.216.34"]})
    use_case, _ = endpoints_use_case(resolver=resolver)
    assert use_case.create("acct_a", "https://own.example/\u00e9", ["*"]).endpoint.url == "https://own.example/%C3%A9"
    assert (
        use_case.create("acct_a", "https://b\u00fccher.example/a?q=\u00e9", ["*"]).endpoint.url
        == "https://xn--bcher-kva.example/a?q=%C3%A9"
    )


@pytest.mark.parametrize(
    "url", ["https://\u00e9" + "x" * 70 + ".example/", "https://a..\u00e9.example/", "https://\u00e9:99999/"]
)
def test_a_url_that_cannot_become_ascii_is_refused(url):
    use_case, _ = endpoints_use_case()
    with pytest.raises(InvalidParameter) as refused:
        use_case.create("acct_a", url, ["*"])
    assert refused.value.param == "url"


def test_only_the_standard_https_port_unless_the_operator_widens_the_ports():
    use_case, _ = endpoints_use_case()
    with pytest.raises(InvalidParameter, match="port 443"):
        use_case.create("acct_a", "https://shop.example.com:8443/hook", ["*"])
    assert use_case.create("acct_a", "https://shop.example.com:443/hook", ["*"])
    widened = WebhookEndpoints(FakeEndpoints(), FakeCipher(), FakeResolver(PUBLIC), lambda: NOW, False, (443, 8443))
    assert widened.create("acct_a", "https://shop.example.com:8443/hook", ["*"]).endpoint.url.endswith(":8443/hook")
