import pytest

from infra.runtime.settings import Secret

from panel import create_app
from panel.settings import Settings
from tests.support.ports import refusing_port


@pytest.fixture
def unreachable_gateway_url():
    with refusing_port() as port:  # nothing listens there, nothing can start to
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def app(unreachable_gateway_url):
    settings = Settings(
        secret_key=Secret("unit-test-key-" * 3),
        gateway_url=unreachable_gateway_url,
        consume_results=False,
        gateway_timeout_seconds=1,
    )
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client) -> str:
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf"]
