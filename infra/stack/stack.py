"""The whole gateway as real processes: broker, migrations, API, processor, results consumer, panel."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TextIO

from infra.kernel.contracts import Topics
from infra.runtime.kafka import KafkaSettings, ensure_topics, wait_for_broker
from infra.runtime.publish_gate import PublishGate
from infra.runtime.settings import DEVELOPMENT_SECRETS_OPT_IN
from infra.stack.broker_renewal import Assignments, BrokerRenewal
from infra.stack.broker_watch import BrokerWatch
from infra.stack.console import console_formatter
from infra.stack.demo import write_cli_env
from infra.stack.embedded_broker import EmbeddedBroker
from infra.stack.processes import ManagedProcess, run_to_completion, stop_all
from infra.stack.prometheus_local import start_local_prometheus, stop_local_prometheus, targets_page, wait_until_ready
from infra.stack.settings import StackSettings

PYTHON = sys.executable
STOP_GRACE_SECONDS = 7


class StackError(RuntimeError):
    pass


class Stack:
    """Start with :meth:`start`, stop with :meth:`stop` (or use ``with``)."""

    def __init__(self, settings: StackSettings, console: TextIO | None = sys.stdout):
        self.settings = settings
        self.console = console
        self.log_dir = settings.var_dir / "logs"
        self.processes: list[ManagedProcess] = []
        self.prometheus_url: str | None = None
        self._broker: EmbeddedBroker | None = None
        self._broker_watch: BrokerWatch | None = None
        self._prometheus: subprocess.Popen | None = None
        # The API's and the panel's listening sockets, bound by the port check and handed to gunicorn
        # (``--bind fd://N``): no other program can take them in between, so the readiness check can
        # only ever reach the stack's own servers. Closed here once the service holds its copy.
        self._listeners: dict[str, socket.socket] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 90) -> "Stack":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._check_ports_free()
            self._start_kafka()
            self._migrate()
            write_cli_env(self.settings.var_dir, self._env(DATABASE_URL=self.settings.gateway_db))
            self._start_services()
            self._wait_until_ready(timeout)
            self._start_prometheus()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[str]:
        """Stop every service within ~10 s; return the names that had to be killed."""
        self._say("stopping services")
        killed = stop_all(self.processes, STOP_GRACE_SECONDS)
        self._close_listeners()
        stop_local_prometheus(self._prometheus, timeout=2)
        self._prometheus = None
        if self._broker_watch is not None:
            self._broker_watch.stop()
            self._broker_watch = None
        if self._broker is not None:
            self._broker.stop(timeout=2)
            self._broker = None
        return killed

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    def crashed(self) -> list[str]:
        """Services that exited while the stack should be running."""
        return [f"{p.name} (exit code {p.exit_code()})" for p in self.processes if not p.is_running()]

    # -- steps -----------------------------------------------------------------------------------

    def _check_ports_free(self) -> None:
        """Bind the public ports (kept until their gunicorn holds them); check that nothing listens on
        the others, which each service binds itself (a service that loses one exits and says so)."""
        s = self.settings
        for name, variable, port in (("api", "GATEWAY_API_PORT", s.api_port), ("panel", "PANEL_PORT", s.panel_port)):
            try:
                self._listeners[name] = _listen(s.host, port)
            except OSError as error:
                raise self._port_taken(port, variable) from error
        ports = {
            "API_METRICS_PORT": s.api_metrics_port,
            "PANEL_METRICS_PORT": s.panel_metrics_port,
            "PROCESSOR_METRICS_PORT": s.processor_metrics_port,
            "RESULTS_METRICS_PORT": s.results_metrics_port,
            "WEBHOOKS_METRICS_PORT": s.webhooks_metrics_port,
        }
        if not s.external_kafka:
            ports["KAFKA_PORT"] = s.kafka_port
        for variable, port in ports.items():
            if _port_in_use(s.host, port):
                raise self._port_taken(port, variable)

    def _port_taken(self, port: int, variable: str) -> StackError:
        return StackError(
            f"port {port} on {self.settings.host} is already in use (another `make run`?); "
            f"stop it or choose another port with {variable}=..."
        )

    def kafka_settings(self) -> KafkaSettings:
        s = self.settings
        return KafkaSettings(
            bootstrap_servers=s.kafka_bootstrap, topics=Topics.with_prefix(s.topic_prefix), partitions=s.partitions
        )

    def _start_kafka(self) -> None:
        kafka = self.kafka_settings()
        if self.settings.external_kafka:
            self._say(f"using Kafka at {kafka.bootstrap_servers}")
            wait_for_broker(kafka, timeout=30)
            ensure_topics(kafka)
            return
        self._say(f"starting the embedded broker (Tansu, memory storage) on {kafka.bootstrap_servers}")
        self._broker = EmbeddedBroker(
            self.settings.kafka_port, self.settings.host, kafka, log_path=self.log_dir / "broker.log"
        ).start()
        renewal = None
        if self.settings.broker_renew_messages > 0:
            renewal = BrokerRenewal(
                self._broker,
                PublishGate(self._publish_gate_path()),
                self._consumer_groups(),
                assignments=self._assignment_probes(),
            )
        self._broker_watch = BrokerWatch(
            self._broker.settings,
            self.settings.broker_warn_messages,
            self.settings.broker_watch_seconds,
            self._say,
            renewal,
            self.settings.broker_renew_messages,
        ).start()

    def _consumer_groups(self) -> dict[str, list[str]]:
        """Every group reading the broker and its topics, in the order messages flow through them."""
        s, topics = self.settings, self.kafka_settings().topics
        return {
            f"{s.topic_prefix}processor": [topics.transactions, topics.refunds],
            f"{s.topic_prefix}gateway-results": [topics.results, topics.refunds_result],
        }

    def _assignment_probes(self) -> list:
        """Each consumer's partitions now and times given partitions, read off its metrics."""
        s = self.settings
        return [
            lambda: _assignments(f"http://{s.host}:{s.processor_metrics_port}/metrics", "processor_"),
            lambda: _assignments(f"http://{s.host}:{s.results_metrics_port}/metrics", "gateway_results_"),
        ]

    def _publish_gate_path(self) -> str:
        return str((self.settings.var_dir / "run" / "publish-gate").resolve())

    @property
    def broker_renewals(self) -> list:
        """Every time the embedded broker was started afresh (none with an external Kafka)."""
        return list(self._broker_watch.renewals) if self._broker_watch is not None else []

    def _migrate(self) -> None:
        for name, module, url in (
            ("processor", "processor", self.settings.processor_db),
            ("gateway", "gateway_api", self.settings.gateway_db),
        ):
            self._say(f"migrating the {name} database ({_display_url(url)})")
            run_to_completion(
                f"{module} migrate", [PYTHON, "-m", module, "migrate"], self._env(DATABASE_URL=url), timeout=120
            )

    def _start_services(self) -> None:
        for name, argv, env in self._service_commands():
            self._say(f"starting {name}")
            listener = self._listeners.get(name)
            self.processes.append(
                ManagedProcess(
                    name,
                    argv,
                    env,
                    self.log_dir,
                    self.console,
                    console_formatter(self.settings.log_format, self.console),
                    pass_fds=(listener.fileno(),) if listener else (),
                ).start()
            )
            if listener:  # gunicorn holds it now; once it exits, the port refuses connections
                self._listeners.pop(name).close()

    def _close_listeners(self) -> None:
        for listener in self._listeners.values():
            listener.close()
        self._listeners.clear()

    def _service_commands(self) -> list[tuple[str, list[str], dict[str, str]]]:
        s = self.settings
        gunicorn = [PYTHON, "-m", "gunicorn"]
        # The consumer groups carry the topic prefix too: stacks sharing a broker never join each
        # other's groups (a member that left mid-join would hold up the next stack's join for minutes).
        return [
            (
                "processor",
                [PYTHON, "-m", "processor"],
                self._env(
                    DATABASE_URL=s.processor_db,
                    METRICS_PORT=str(s.processor_metrics_port),
                    PROCESSOR_GROUP_ID=f"{s.topic_prefix}processor",
                ),
            ),
            (
                "results",
                [PYTHON, "-m", "gateway_api.results"],
                self._env(
                    DATABASE_URL=s.gateway_db,
                    METRICS_PORT=str(s.results_metrics_port),
                    RESULTS_GROUP_ID=f"{s.topic_prefix}gateway-results",
                ),
            ),
            (
                "webhooks",
                [PYTHON, "-m", "gateway_api.webhooks"],
                self._env(DATABASE_URL=s.gateway_db, METRICS_PORT=str(s.webhooks_metrics_port)),
            ),
            (
                "api",
                gunicorn
                + [
                    "-c",
                    "python:gateway_api.gunicorn_conf",
                    "gateway_api:create_app()",
                    "--bind",
                    self._bind("api"),
                ],
                self._env(
                    DATABASE_URL=s.gateway_db,
                    PROMETHEUS_MULTIPROC_DIR=self._fresh_dir("metrics-api"),
                    METRICS_PORT=str(s.api_metrics_port),
                ),
            ),
            (
                "panel",
                gunicorn + ["-c", "python:panel.gunicorn_conf", "panel:create_app()", "--bind", self._bind("panel")],
                self._env(
                    PANEL_GATEWAY_URL=s.api_url,
                    PROMETHEUS_MULTIPROC_DIR=self._fresh_dir("metrics-panel"),
                    METRICS_PORT=str(s.panel_metrics_port),
                ),
            ),
        ]

    def _bind(self, name: str) -> str:
        """gunicorn's ``--bind`` for a public service: the socket the port check bound."""
        return f"fd://{self._listeners[name].fileno()}"

    def _env(self, **overrides: str) -> dict[str, str]:
        s = self.settings
        env = {
            key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")
        }
        env |= {
            "KAFKA_BOOTSTRAP_SERVERS": s.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": s.topic_prefix,
            "KAFKA_TOPIC_PARTITIONS": str(s.partitions),
            "GATEWAY_ADMIN_TOKEN": s.admin_token.reveal(),
            "GATEWAY_SECRET_PEPPER": s.secret_pepper.reveal(),
            "PANEL_SECRET_KEY": s.panel_secret_key.reveal(),
            "CARD_DATA_KEYS": s.card_data_keys.reveal(),
            "WEBHOOK_SECRETS_KEY": s.webhook_secrets_key.reveal(),
            "AUDIT_HMAC_KEY": s.audit_hmac_key.reveal(),
            "WEBHOOK_ALLOW_PRIVATE_URLS": str(s.webhook_allow_private_urls).lower(),
            # Rate limit counters every worker of the API and the panel share, without a server to run.
            "RATE_LIMIT_STORAGE_URL": os.environ.get("RATE_LIMIT_STORAGE_URL") or s.rate_limit_storage_url,
            "LOG_LEVEL": s.log_level,
            "PYTHONUNBUFFERED": "1",
        }
        if s.uses_development_secrets:
            env[DEVELOPMENT_SECRETS_OPT_IN] = "true"
        if not s.external_kafka:
            # Tuned for Tansu (docs/decisions/0001 and 0002): it answers a fetch at 0, W/2, 3W/4... of
            # the wait W and lists a partition's stored batches on every pass, so a shorter wait and
            # fuller produce requests (one batch for ~3 transactions at 150/s) halve accept -> decided
            # (p50 ~40 -> ~19 ms at 150/s) at the same broker CPU per transaction. Apache Kafka keeps 50 / 5.
            env |= {
                "KAFKA_FETCH_WAIT_MAX_MS": os.environ.get("KAFKA_FETCH_WAIT_MAX_MS", "15"),
                "GATEWAY_PRODUCER_LINGER_MS": os.environ.get("GATEWAY_PRODUCER_LINGER_MS", "20"),
            }
        if not s.external_kafka and s.broker_renew_messages > 0:
            # The embedded broker is started afresh now and then (infra/stack/broker_renewal.py).
            # Its consumers read every partition without a group (one per group here), so a renewal
            # waits for no group join (~1 s on Tansu); they and its producers reconnect within ~0.1 s.
            env |= {
                "KAFKA_IDEMPOTENT_PRODUCER": "false",
                "KAFKA_STATIC_ASSIGNMENT": os.environ.get("KAFKA_STATIC_ASSIGNMENT", "true"),
                "KAFKA_PUBLISH_GATE": self._publish_gate_path(),
                "KAFKA_SESSION_TIMEOUT_MS": os.environ.get("KAFKA_SESSION_TIMEOUT_MS", "2000"),
                "KAFKA_HEARTBEAT_INTERVAL_MS": os.environ.get("KAFKA_HEARTBEAT_INTERVAL_MS", "100"),
                "KAFKA_RECONNECT_BACKOFF_MAX_MS": os.environ.get("KAFKA_RECONNECT_BACKOFF_MAX_MS", "100"),
            }
        return env | overrides

    def _fresh_dir(self, name: str) -> str:
        # Multiprocess metric files of a previous run would be summed into this one's.
        path = (self.settings.var_dir / "run" / name).resolve()
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return str(path)

    def _wait_until_ready(self, timeout: float) -> None:
        s = self.settings
        # The consumers are ready once they own partitions: before that a transaction is accepted
        # but waits seconds for the consumer group to form.
        checks = {
            "api": lambda: _answers(f"{s.api_url}/readyz"),
            "panel": lambda: _answers(f"{s.panel_url}/readyz"),
            "processor": lambda: (
                _gauge(f"http://{s.host}:{s.processor_metrics_port}/metrics", "processor_assigned_partitions") > 0
            ),
            "results": lambda: (
                _gauge(f"http://{s.host}:{s.results_metrics_port}/metrics", "gateway_results_assigned_partitions") > 0
            ),
            "webhooks": lambda: _answers(f"http://{s.host}:{s.webhooks_metrics_port}/readyz"),
        }
        deadline = time.monotonic() + timeout
        pending = dict(checks)
        while pending:
            if crashed := self.crashed():
                raise StackError(f"{', '.join(crashed)} exited during start-up; see {self.log_dir}/")
            pending = {name: ready for name, ready in pending.items() if not ready()}
            if pending and time.monotonic() > deadline:
                raise StackError(f"not ready after {timeout:.0f}s: {', '.join(pending)}; see {self.log_dir}/")
            time.sleep(0.2)
        self._say("every service is ready")

    def _start_prometheus(self) -> None:
        s = self.settings
        if not s.with_prometheus:
            return
        if _port_in_use(s.host, s.prometheus_port):
            self._say(f"not starting Prometheus: port {s.prometheus_port} is in use (PROMETHEUS_PORT=... moves it)")
            return
        self._prometheus = start_local_prometheus(
            self.prometheus_targets(), s.prometheus_port, s.var_dir / "prometheus"
        )
        if self._prometheus is None:
            self._say("Prometheus is not installed (apt-get install prometheus); the stack runs without it")
        elif wait_until_ready(s.prometheus_port, timeout=20, process=self._prometheus):
            self.prometheus_url = targets_page(s.prometheus_port)
        else:
            self._say(f"Prometheus did not become ready; see {s.var_dir}/prometheus/prometheus.log")

    # -- conveniences for people and tests --------------------------------------------------------

    def prometheus_targets(self) -> dict[str, list[str]]:
        """Every service under its job name in infra/prometheus/prometheus.yml."""
        s = self.settings
        return {
            "api": [f"{s.host}:{s.api_metrics_port}"],
            "processor": [f"{s.host}:{s.processor_metrics_port}"],
            "results": [f"{s.host}:{s.results_metrics_port}"],
            "panel": [f"{s.host}:{s.panel_metrics_port}"],
            "webhooks": [f"{s.host}:{s.webhooks_metrics_port}"],
        }

    def pids(self) -> dict[str, int]:
        """The process id of every running part, by name (the broker and Prometheus only when this
        stack started them). A gunicorn entry is its master; its workers are the master's children."""
        parts = {p.name: p.pid for p in self.processes if p.is_running()}
        if self._broker is not None and self._broker.is_running():
            parts["broker"] = self._broker.pid
        if self._prometheus is not None and self._prometheus.poll() is None:
            parts["prometheus"] = self._prometheus.pid
        return parts

    def retired_cpu_seconds(self) -> dict[str, float]:
        """CPU seconds of parts that were replaced while running (the brokers a renewal killed), by name."""
        return {"broker": self._broker.retired_cpu_seconds} if self._broker is not None else {}

    def create_merchant(self, name: str) -> dict:
        """A merchant account through the admin API: ``{"id", "name", "secret"}``."""
        status, body, _ = self.request(
            "POST",
            "/v1/accounts",
            {"name": name},
            headers={"Authorization": f"Bearer {self.settings.admin_token.reveal()}"},
        )
        if status != 201:
            raise StackError(f"creating a merchant answered {status}: {body}")
        return body

    def set_rate_limit(self, account_id: str, per_second: int | None) -> dict:
        """The operator's override of a merchant's request rate (docs/integrate.md, Rate limits); None: the default."""
        status, body, _ = self.request(
            "PUT",
            f"/v1/accounts/{account_id}/rate_limit",
            {"rate_limit_per_second": per_second},
            headers={"Authorization": f"Bearer {self.settings.admin_token.reveal()}"},
        )
        if status != 200:
            raise StackError(f"setting a rate limit answered {status}: {body}")
        return body

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        """A JSON request to the API: ``(status, decoded body, headers)``."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.settings.api_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null"), dict(error.headers)

    def _say(self, message: str) -> None:
        if self.console is not None:
            self.console.write(f"==> {message}\n")
            self.console.flush()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that a child inherits (``pass_fds``), as gunicorn's own would be."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # gunicorn's default: a restart after a stop
        sock.bind((host, port))
        sock.listen(2048)  # gunicorn's default backlog
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) == 0


def _answers(url: str) -> bool:
    """True once something serves HTTP at ``url`` without a server error."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (urllib.error.URLError, OSError):
        return False


def _metrics_page(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.read().decode()
    except (urllib.error.URLError, OSError):
        return ""


def _sample(text: str, name: str) -> float:
    """The value of an unlabelled sample on a /metrics page; 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def _gauge(url: str, name: str) -> float:
    """The value of an unlabelled gauge on a /metrics page; 0 when absent or unreachable."""
    return _sample(_metrics_page(url), name)


def _assignments(url: str, prefix: str) -> Assignments:
    text = _metrics_page(url)
    return Assignments(
        owned=int(_sample(text, prefix + "assigned_partitions")),
        given=int(_sample(text, prefix + "partition_assignments_total")),
    )


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
