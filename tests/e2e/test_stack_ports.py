"""The test stack when a port it picked is taken before its child binds it: started again on fresh ports."""

import pytest

from infra.stack.embedded_broker import free_port

from tests.support import stack as stack_support
from tests.support.ports import refusing_port
from tests.support.stack import start_stack

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
