# Every target sets itself up: a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=
# Test processes for `make test` (pytest-xdist); TEST_WORKERS=0 runs the suite in this process, one test at a time.
TEST_WORKERS ?= 3

.PHONY: install run lint docs test test-unit test-integration test-e2e test-browser test-deploy bench-processor bench-api bench-soak bench-webhooks bench-refunds screenshot clean release

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0] + ": set PYTHON=python3.11")'
	@test -x $(PY) || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing the gateway and its dev tools into $(VENV) (first run takes a minute)"
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(INSTALLED)

## The whole stack on the embedded default: broker, SQLite, API, processor, results consumer, panel.
run: $(INSTALLED)
	@$(PY) -m infra.stack

## Style rules and the formatter (ruff; `ruff format .` and `ruff check --fix .` apply them), layer contracts (import-linter) and types (mypy, held to mypy-baseline.txt, which only
## shrinks: tools/mypy_baseline.py), all configured in pyproject.toml. `make test` runs them too (tests/unit/test_lint.py).
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) tools/mypy_baseline.py

## The docs site from docs/ (mkdocs-material, mkdocs.yml) into site/, offline; warnings are errors.
## `make test` builds it too (tests/unit/test_docs.py).
docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

## The whole suite: unit, integration (broker, SQLite, MariaDB) and end-to-end.
test: $(INSTALLED)
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-unit: $(INSTALLED)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: $(INSTALLED)
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-e2e: $(INSTALLED)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

## The panel in a real browser (Debian's chromium driven by Playwright; skipped, saying why, without it).
test-browser: $(INSTALLED)
	$(PY) -m pytest tests/browser $(PYTEST_ARGS)

## Deployment, offline: kustomize renders, Strimzi and Kubernetes schemas, compose, secrets, configuration drift.
test-deploy: $(INSTALLED)
	$(PY) -m pytest tests/deploy $(PYTEST_ARGS)

## Throughput of the processor: BENCH_N transactions pre-filled, timed until all results are out.
bench-processor: $(INSTALLED)
	$(PY) -m benchmarks.processor

## Throughput and latency of the API next to a bare-Flask ceiling, in one run (wrk + an open-loop generator; BENCH_API_*).
bench-api: $(INSTALLED)
	$(PY) -m benchmarks.api

## The embedded stack as `make run` starts it at a constant rate: per-minute API and decided percentiles, CPU per
## transaction of every process (BENCH_SOAK_RATE, 150/s; BENCH_SOAK_MINUTES, 30).
bench-soak: $(INSTALLED)
	$(PY) -m benchmarks.soak

## Webhook latency: BENCH_WEBHOOKS_N decisions at BENCH_WEBHOOKS_RATE/s, decision -> local receiver percentiles.
bench-webhooks: $(INSTALLED)
	$(PY) -m benchmarks.webhooks

## Refund rounds under kills: BENCH_REFUNDS_ROUNDS (10,000) rounds of 5-20 concurrent refunds while the processor and
## the results consumer are SIGKILLed in turn every BENCH_REFUNDS_KILL_EVERY (10) s; prints rounds, refunds decided, kills and over-refunds.
bench-refunds: $(INSTALLED)
	$(PY) -m benchmarks.refunds

## Refresh the docs' pictures of the panel (docs/panel.png, an operator's live view; docs/reports.png;
## docs/webhooks.png) from a real browser run. Opt-in: the test suite itself never writes them (its
## screenshots are test artifacts).
screenshot: $(INSTALLED)
	TEST_PANEL_SCREENSHOT=$(CURDIR)/docs/panel.png TEST_REPORTS_SCREENSHOT=$(CURDIR)/docs/reports.png \
	  TEST_WEBHOOKS_SCREENSHOT=$(CURDIR)/docs/webhooks.png \
	  $(PY) -m pytest tests/browser/test_operator_view.py tests/browser/test_reports_page.py \
	  tests/browser/test_webhooks_page.py -p no:randomly \
	  -k "one_accounts_request or draws_volume or adds_an_endpoint" $(PYTEST_ARGS)

## A release's parameters in an overlay: its version label (never in a selector) and images (k8s/README.md).
release:
	@test -n "$(OVERLAY)" -a -n "$(VERSION)" || { echo "usage: make release OVERLAY=k8s/overlays/prod VERSION=0.2.0 IMAGES='payment-gateway=...@sha256:...'"; exit 2; }
	$(PYTHON) k8s/release.py $(OVERLAY) $(VERSION) $(IMAGES)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache site
