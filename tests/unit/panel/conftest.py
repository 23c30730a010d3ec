import pytest

from infra.embedded_broker import free_port
from infra.settings import Secret
from panel import create_app
from panel.settings import Settings


@pytest.fixture
def unreachable_gateway_url():
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


@pytest.fixture
def app(unreachable_gateway_url):
    settings = Settings(secret_key=Secret("unit-test-key-" * 3), gateway_url=unreachable_gateway_url,
                        consume_results=False, gateway_timeout_seconds=1)
    return create_app(settings)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client) -> str:
    client.get("/login")
    with client.session_transaction() as session:
        return session["csrf"]
