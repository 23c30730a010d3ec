"""Fixtures of the deployment checks: rendered kustomizations and the compose file, loaded once."""

from __future__ import annotations

import shutil

import pytest

from tests.deploy import support
from tests.support import skip_or_fail


@pytest.fixture(scope="session")
def kubectl() -> str:
    path = shutil.which("kubectl")
    if path is None:
        skip_or_fail("kubectl (with kustomize) is not installed")
    return path


@pytest.fixture(scope="session")
def rendered(kubectl) -> dict[str, list[dict]]:
    """Every kustomization (base and overlays) rendered by `kubectl kustomize`, by folder name."""
    return {str(folder.relative_to(support.K8S)): support.render(folder) for folder in support.kustomizations()}


@pytest.fixture(scope="session")
def compose_schema() -> dict:
    """The Compose Specification JSON schema, from the npm registry (cached in the virtualenv)."""
    try:
        return support.compose_schema()
    except support.SchemaUnavailable as exc:
        skip_or_fail(str(exc))


@pytest.fixture(scope="session")
def compose() -> dict:
    return support.load_compose()


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return support.read_env_file(support.ENV_EXAMPLE)
