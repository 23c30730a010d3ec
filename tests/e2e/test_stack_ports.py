"""The test stack when a port it picked is taken before its child binds it: started again on fresh ports."""

import dataclasses
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from infra.stack import Stack
from infra.stack.embedded_broker import free_port

from tests.support import stack as stack_support
from tests.support.ports import refusing_port
from tests.support.stack import stack_settings_for_tests, start_stack, started_stack

pytestmark = pytest.mark.slow


def test_a_child_that_loses_its_port_means_the_stack_starts_again_on_fresh_ports(
    kafka_bootstrap, tmp_path, monkeypatch
):
    with refusing_port() as taken:  # bound here, so the processor's /metrics cannot bind it
        picks = iter([free_port(), free_port(), taken])  # api, panel, then the processor's metrics port
        monkeypatch.setattr(stack_support, "free_port", lambda: next(picks, None) or free_port())
        stack = start_stack(tmp_path, kafka_bootstrap, timeout=60)
    try:
        first_try = (tmp_path / "attempt-1" / "logs" / "processor.log").read_text()
        assert "Address already in use" in first_try
        assert stack.settings.processor_metrics_port != taken
        assert stack.request("GET", "/healthz")[0] == 200 and not stack.crashed()
    finally:
        stack.stop()


def test_the_public_ports_are_the_stacks_from_its_port_check_on(kafka_bootstrap, tmp_path, monkeypatch):
    # Another program binds the API's port while the broker and the migrations take their seconds.
    # Before, gunicorn then lost the port, the foreign server's 404 passed the readiness check and
    # the banner offered an API that was not there (CI: the printed curl refused, exit 7).
    foreign: dict[str, object] = {}
    migrate = Stack._migrate

    def migrate_while_another_program_binds_the_api_port(stack: Stack) -> None:
        try:
            foreign["server"] = HTTPServer((stack.settings.host, stack.settings.api_port), BaseHTTPRequestHandler)
        except OSError as error:
            foreign["error"] = error
        migrate(stack)

    monkeypatch.setattr(Stack, "_migrate", migrate_while_another_program_binds_the_api_port)
    stack = start_stack(tmp_path, kafka_bootstrap, timeout=60)
    try:
        assert "server" not in foreign, "another program took the API's port after the stack's check"
        assert isinstance(foreign["error"], OSError)
        assert stack.request("GET", "/healthz")[0] == 200 and not stack.crashed()
    finally:
        stack.stop()
        if "server" in foreign:
            foreign["server"].server_close()


def test_a_fixture_stack_whose_child_loses_its_port_starts_again_on_fresh_ports(kafka_bootstrap, tmp_path):
    # The e2e fixtures' stacks (started_stack) failed the test outright instead (CI: the results
    # consumer's /metrics port taken, "Address already in use").
    with refusing_port() as taken:
        settings = dataclasses.replace(stack_settings_for_tests(tmp_path, kafka_bootstrap), results_metrics_port=taken)
        fixture = started_stack(settings)
        stack = next(fixture)
    try:
        assert "Address already in use" in (tmp_path / "logs" / "results.log").read_text()
        assert stack.settings.results_metrics_port != taken
        assert stack.request("GET", "/healthz")[0] == 200 and not stack.crashed()
    finally:
        next(fixture, None)  # the fixture's teardown: stops the stack


def test_a_benchmark_stack_whose_child_loses_its_port_starts_again_on_fresh_ports(tmp_path, monkeypatch):
    # make bench-api and bench-soak (and their smoke tests) stopped with "results exited during start-up".
    from benchmarks import api

    with refusing_port() as taken:
        picks = iter([free_port() for _ in range(4)] + [taken])  # kafka, api, panel, processor, then results' /metrics
        monkeypatch.setattr(api, "free_port", lambda: next(picks, None) or free_port())
        with api.gateway_stack(tmp_path) as (stack, auth):
            assert "Address already in use" in (tmp_path / "logs" / "results.log").read_text()
            assert stack.settings.results_metrics_port != taken
            assert stack.request("GET", "/v1/transactions", headers={"Authorization": auth})[0] == 200
