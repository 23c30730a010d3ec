"""What the no-CVV design (docs/threat-model-card-data.md) relies on in the contract and in every
deployment: no CVV field in the sealed card, and no process that would take a card in clear fields
(an old producer's `credit_card_cvv` would then sit on `transactions` in clear)."""

from __future__ import annotations

import pytest

from infra.kernel.contracts import CARD_FIELDS

from tests.deploy import support
from tests.deploy.test_config_drift import compose_processes, kubernetes_processes

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]


def test_the_sealed_card_of_the_contract_has_no_cvv_field():
    assert "cvv" not in CARD_FIELDS and "cvv_length" in CARD_FIELDS


def test_compose_takes_no_card_in_clear(compose, env_example):
    processes = compose_processes(compose, env_example)
    assert processes and all(
        p.env.get("ACCEPT_PLAINTEXT_CARDS", "false").lower() in ("", "false", "0", "no") for p in processes
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_kubernetes_overlay_takes_a_card_in_clear(rendered, overlay):
    processes = kubernetes_processes(rendered[overlay], rendered["base"], overlay)
    assert processes and all(
        p.env.get("ACCEPT_PLAINTEXT_CARDS", "false").lower() in ("", "false", "0", "no") for p in processes
    )


def test_no_deployment_file_names_a_cvv():
    files = [support.COMPOSE_FILE, support.ENV_EXAMPLE, *support.K8S.rglob("*.yaml")]
    assert [path.name for path in files if "cvv" in path.read_text().lower()] == []
