"""Dockerfile: multi-stage on python:3.11-slim, sources it copies exist and are in the build
context, non-root, no compilers in the final stage, a health check that really probes."""

from __future__ import annotations

import glob
import http.server
import subprocess
import sys
import threading

import pytest

from tests.deploy import support
from tests.deploy.support import Instruction

DOCKERFILE = support.ROOT / "Dockerfile"
HEALTHCHECK = support.ROOT / "docker" / "healthcheck.py"
BUILD_TOOLS = ("build-essential", "gcc", "g++", "make ", "libc6-dev")


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return support.dockerfile_instructions(DOCKERFILE)


def stages(instructions) -> list[list[Instruction]]:
    result = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def global_args(instructions) -> dict[str, str]:
    args = {}
    for instruction in instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args[name] = default
    return args


def copy_sources(instruction: Instruction) -> list[str]:
    words = [w for w in instruction.arguments.split() if not w.startswith("--")]
    return words[:-1]


def test_every_stage_starts_from_python_3_11_slim(instructions):
    images = [
        support.interpolate(i.arguments.split()[0], global_args(instructions))
        for i in instructions
        if i.keyword == "FROM"
    ]
    assert len(images) >= 2, "multi-stage: a builder and a runtime"
    assert set(images) == {"python:3.11-slim"}


def test_wheels_are_built_in_the_builder_and_only_installed_in_the_final_stage(instructions):
    builder, *_, final = stages(instructions)
    assert builder[0].arguments.endswith("AS builder")
    assert any("pip wheel" in i.arguments for i in builder if i.keyword == "RUN")
    final_runs = " ".join(i.arguments for i in final if i.keyword == "RUN")
    assert "from=builder" in final_runs and "--no-index" in final_runs
    assert not any(tool in final_runs for tool in BUILD_TOOLS)
    assert "apt-get install" not in final_runs


def test_the_final_stage_runs_as_a_non_root_user_with_a_healthcheck(instructions):
    final = stages(instructions)[-1]
    users = [i.arguments for i in final if i.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert [i.keyword for i in final].index("USER") > max(n for n, i in enumerate(final) if i.keyword == "RUN")
    assert any(i.keyword == "HEALTHCHECK" and "CMD" in i.arguments for i in final)
    (cmd,) = [i.arguments for i in final if i.keyword == "CMD"]
    assert cmd.startswith("["), "exec form: signals reach the process"


def test_every_copied_source_exists_and_is_in_the_build_context(instructions):
    patterns = support.dockerignore_patterns(support.ROOT / ".dockerignore")
    copies = [i for i in instructions if i.keyword in {"COPY", "ADD"} and "--from" not in i.arguments]
    assert copies
    for instruction in copies:
        for source in copy_sources(instruction):
            matches = glob.glob(str(support.ROOT / source))
            assert matches, f"{instruction.keyword} {source}: no such file in the repository"
            assert not support.dockerignored(source.rstrip("/"), patterns), f"{source} is in .dockerignore"


def test_dockerignore_rules_match_like_docker():
    patterns = ["tests", "**/__pycache__", "infra/prometheus", ".env.*", "!.env.keep"]
    assert support.dockerignored("tests/deploy/x.py", patterns)
    assert support.dockerignored("infra/__pycache__/kafka.pyc", patterns)
    assert support.dockerignored("infra/prometheus/alerts.yml", patterns)
    assert support.dockerignored(".env.local", patterns)
    assert not support.dockerignored(".env.keep", patterns)
    assert not support.dockerignored("infra/runtime/kafka.py", patterns)


def test_the_build_context_leaves_out_local_state_and_secrets():
    patterns = support.dockerignore_patterns(support.ROOT / ".dockerignore")
    for path in (".git/HEAD", ".venv/bin/python", ".env", "tests/conftest.py", "var/gateway.db"):
        assert support.dockerignored(path, patterns), path


def test_the_image_holds_the_services_and_the_runtime_but_not_the_development_stack(instructions):
    """`make run`'s embedded broker and local Prometheus (infra/stack) never ship: no service imports them."""
    patterns = support.dockerignore_patterns(support.ROOT / ".dockerignore")
    sources = [
        source.rstrip("/")
        for i in instructions
        if i.keyword == "COPY" and "--from" not in i.arguments
        for source in copy_sources(i)
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=support.ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = {
        path
        for path in tracked
        if any(path == s or path.startswith(s + "/") for s in sources) and not support.dockerignored(path, patterns)
    }
    assert not {path for path in shipped if path.startswith("infra/stack/")}
    for package in ("gateway_api/", "processor/", "panel/", "infra/kernel/", "infra/runtime/"):
        expected = {path for path in tracked if path.startswith(package)}
        assert expected and expected <= shipped, sorted(expected - shipped)[:5]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/healthz" else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def http_base_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_healthcheck(*urls: str) -> int:
    return subprocess.run([sys.executable, str(HEALTHCHECK), *urls], timeout=30).returncode


def test_healthcheck_passes_when_the_service_answers(http_base_url):
    assert run_healthcheck(f"{http_base_url}/healthz") == 0


def test_healthcheck_fails_on_an_error_status_or_a_closed_port(http_base_url):
    assert run_healthcheck(f"{http_base_url}/readyz") == 1
    assert run_healthcheck("http://127.0.0.1:1/healthz") == 1
