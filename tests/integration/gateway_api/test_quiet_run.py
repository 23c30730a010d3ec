"""A quiet API: probes and scrapes at DEBUG, merchants' requests at INFO; its root says where to go;
the CLI says in one line what it misses."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest


def _access_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway_api.access"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_and_scrapes_are_not_logged_at_info(client, caplog, path):
    caplog.set_level(logging.DEBUG, logger="gateway_api.access")
    client.get(path)
    (line,) = _access_lines(caplog)
    assert line.levelno == logging.DEBUG and line.path == path


def test_metrics_are_not_served_on_the_api_port(client):
    assert client.get("/metrics").status_code == 404  # the gunicorn master serves them on METRICS_PORT


def test_a_merchants_request_is_logged_at_info(client, merchant, caplog):
    caplog.set_level(logging.DEBUG, logger="gateway_api.access")
    client.get("/v1/me", auth=merchant)
    (line,) = _access_lines(caplog)
    assert (line.levelno, line.route, line.status) == (logging.INFO, "/v1/me", 200)


def test_the_api_root_is_a_small_json_index_of_where_to_go(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "application/json"
    links = response.json["links"]
    assert {"docs", "openapi", "health"} <= set(links)
    for path in (links["docs"], links["openapi"], links["health"]):
        assert client.get(path).status_code == 200, path


def test_the_cli_without_the_apis_settings_says_in_one_line_what_to_set_and_where_to_find_it(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GATEWAY_", "CARD_DATA", "WEBHOOK_"))}
    done = subprocess.run(
        [sys.executable, "-m", "gateway_api", "accounts", "create", "--name", "Shop"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("configuration error: environment variable GATEWAY_ADMIN_TOKEN is required")
    assert ". var/gateway.env" in line and "Traceback" not in done.stderr
