"""docker-compose.yml: valid against the Compose Specification schema (fetched from the npm registry,
see README.md in this folder) and wired the way the deployment promises: KRaft Kafka, topics, MySQL, migrations
first, a scalable processor, Prometheus and Grafana on the observability files."""

from __future__ import annotations

import json
import re
import subprocess

import jsonschema
import pytest
import yaml

from tests.deploy import support

LONG_RUNNING_RESTARTS = {"always", "unless-stopped", "on-failure"}
GATEWAY_SERVICES = {"api", "processor", "results", "webhooks", "panel", "processor-migrate", "api-migrate"}


def gateway_services(compose) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if "GATEWAY_IMAGE" in s.get("image", "")}


def test_the_compose_file_is_valid_against_the_compose_specification(compose, compose_schema):
    schema = compose_schema
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert not errors, "\n".join(errors)


def test_the_schema_check_rejects_an_unknown_service_key(compose, compose_schema):
    broken = {**compose, "services": {**compose["services"], "api": {**compose["services"]["api"], "portz": []}}}
    with pytest.raises(jsonschema.ValidationError, match="portz"):
        jsonschema.validate(broken, compose_schema, cls=jsonschema.Draft7Validator)


def test_every_gateway_service_runs_the_one_image(compose):
    services = gateway_services(compose)
    assert set(services) == GATEWAY_SERVICES
    assert {s["image"] for s in services.values()} == {"${GATEWAY_IMAGE:-payment-gateway:local}"}
    assert {json.dumps(s["build"]) for s in services.values()} == {json.dumps({"context": "."})}


def test_kafka_is_apache_kafka_4_in_kraft_mode(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    env = support.as_env(kafka["environment"])
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "ZOOKEEPER" not in " ".join(env)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert f"kafka-data:{env['KAFKA_LOG_DIRS']}" in kafka["volumes"]


def test_a_one_shot_service_creates_the_five_topics_with_six_partitions(compose, env_example):
    creator = compose["services"]["kafka-topics"]
    script = support.interpolate(support.command_line(creator["command"]), env_example)
    assert creator["restart"] == "no"
    assert creator["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert "kafka-topics.sh" in script and "--create --if-not-exists" in script
    assert re.search(r"for topic in transactions transactions_result transactions_dlq refunds refunds_result;", script)
    assert "--partitions 6" in script and env_example["KAFKA_TOPIC_PARTITIONS"] == "6"


def test_mysql_8_then_one_shot_migrations_then_the_services(compose):
    services = compose["services"]
    assert services["mysql"]["image"].startswith("mysql:8")
    for name, command in (
        ("processor-migrate", "python -m processor migrate"),
        ("api-migrate", "python -m gateway_api migrate"),
    ):
        assert support.command_line(services[name]["command"]) == command
        assert services[name]["restart"] == "no"
        assert services[name]["depends_on"] == {"mysql": {"condition": "service_healthy"}}
    for name, migration in (("processor", "processor-migrate"), ("api", "api-migrate"), ("results", "api-migrate")):
        depends = services[name]["depends_on"]
        assert depends[migration] == {"condition": "service_completed_successfully"}
        assert depends["kafka-topics"] == {"condition": "service_completed_successfully"}


def test_the_processor_and_the_dispatcher_scale_no_fixed_name_no_host_port(compose):
    for name in ("processor", "webhooks"):
        assert "container_name" not in compose["services"][name] and "ports" not in compose["services"][name]
    assert not any("container_name" in s for s in compose["services"].values())


def test_long_running_services_restart_and_have_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            continue
        assert service.get("restart") in LONG_RUNNING_RESTARTS, name
        assert service["healthcheck"]["test"], name


def test_gateway_healthchecks_probe_the_port_of_their_process(compose):
    expected = {
        "api": "http://127.0.0.1:8000/readyz",
        "processor": "http://127.0.0.1:9101/readyz",
        "results": "http://127.0.0.1:9102/readyz",
        "panel": "http://127.0.0.1:8001/readyz",
        "webhooks": "http://127.0.0.1:9103/readyz",
    }
    for name, url in expected.items():
        assert compose["services"][name]["healthcheck"]["test"] == ["CMD", "gateway-healthcheck", url]


def test_every_dependency_waits_on_a_condition(compose):
    for name, service in compose["services"].items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in compose["services"], f"{name} -> {dependency}"
            assert condition["condition"] in {"service_healthy", "service_completed_successfully"}, name


def test_data_lives_in_named_volumes_and_bind_mounts_exist(compose):
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (support.ROOT / source).exists(), source
            else:
                used.add(source)
    assert used == declared == {"kafka-data", "mysql-data", "prometheus-data", "grafana-data"}


def test_prometheus_loads_infra_prometheus_and_scrapes_compose_services(compose):
    prometheus = compose["services"]["prometheus"]
    assert "./infra/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((support.ROOT / "infra/prometheus/prometheus.yml").read_text())
    assert "alerts.yml" in config["rule_files"]
    for job in config["scrape_configs"]:
        hosts = [t.split(":")[0] for sc in job.get("static_configs", []) for t in sc["targets"]]
        hosts += [n for sd in job.get("dns_sd_configs", []) for n in sd["names"]]
        assert set(hosts) <= set(compose["services"]) | {"localhost"}, job["job_name"]


def test_grafana_is_provisioned_from_the_grafana_folder(compose):
    volumes = compose["services"]["grafana"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    (mount,) = [v for v in volumes if v.startswith("./grafana/dashboards:")]
    dashboards_path = mount.split(":")[1]
    for provider_file in (support.ROOT / "grafana/provisioning/dashboards").glob("*.y*ml"):
        for provider in yaml.safe_load(provider_file.read_text())["providers"]:
            assert provider["options"]["path"] == dashboards_path
    for datasource_file in (support.ROOT / "grafana/provisioning/datasources").glob("*.y*ml"):
        for datasource in yaml.safe_load(datasource_file.read_text())["datasources"]:
            assert datasource["url"] == "http://prometheus:9090"


def test_every_setting_of_env_example_is_used_and_every_required_one_is_there(compose, env_example):
    strings = list(_strings(compose))
    referenced = set().union(*(support.referenced_variables(text) for text in strings))
    assert set(env_example) == referenced
    for text in strings:
        support.interpolate(text, env_example)  # raises on a ${VAR:?} that .env.example leaves out


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def test_interpolation_follows_compose_rules():
    values = {"SET": "x", "EMPTY": ""}
    assert (
        support.interpolate("$$a ${SET} $SET ${MISSING:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:?no}", values)
        == "$a x x d d  x"
    )
    with pytest.raises(support.InterpolationError, match="MISSING is required: set it"):
        support.interpolate("${MISSING:?set it}", values)


def test_mysql_runs_the_same_first_start_script_in_compose_and_kubernetes(compose):
    script = "k8s/base/mysql/10-gateway-databases.sh"
    assert (
        f"./{script}:/docker-entrypoint-initdb.d/10-gateway-databases.sh:ro" in compose["services"]["mysql"]["volumes"]
    )
    kustomization = yaml.safe_load((support.K8S / "base/kustomization.yaml").read_text())
    (generator,) = [g for g in kustomization["configMapGenerator"] if g["name"] == "mysql-scripts"]
    assert script.removeprefix("k8s/base/") in generator["files"]
    path = support.ROOT / script
    assert path.stat().st_mode & 0o111, "executed, not sourced, by the mysql entrypoint"
    assert subprocess.run(["bash", "-n", str(path)], timeout=30).returncode == 0
    env = support.as_env(compose["services"]["mysql"]["environment"])
    assert set(re.findall(r"\$\{([A-Z_]+)", path.read_text())) <= set(env)


# --- Kafka and MySQL behind an internal network, SASL per service, ACLs, published ports ---------------

KAFKA_USERS = {"api": "api", "processor": "processor", "results": "results", "panel": "panel"}


def test_kafka_and_mysql_sit_on_an_internal_network_and_publish_nothing(compose):
    assert compose["networks"]["backend"] == {"internal": True}
    for name in ("kafka", "mysql", "kafka-topics", "processor", "results", "processor-migrate", "api-migrate"):
        assert compose["services"][name]["networks"] == ["backend"], name
        assert "ports" not in compose["services"][name], name


def test_the_webhook_dispatcher_reaches_mysql_and_the_internet_and_no_kafka(compose):
    webhooks = compose["services"]["webhooks"]
    assert webhooks["networks"] == ["backend", "frontend"] and "ports" not in webhooks
    assert not any(name.startswith("KAFKA_") for name in support.as_env(webhooks["environment"]))
    assert compose["networks"]["frontend"].get("internal") is not True


def test_kafka_clients_authenticate_with_sasl_on_the_only_listener_others_can_reach(compose, env_example):
    env = support.as_env(compose["services"]["kafka"]["environment"])
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    reachable = {name for name, address in listeners.items() if not address.startswith("localhost:")}
    assert reachable == {"CLIENT"} and protocols["CLIENT"] == "SASL_PLAINTEXT"
    assert {protocols[name] for name in listeners if name != "CLIENT"} == {"PLAINTEXT"}  # localhost only
    jaas = support.interpolate(env["KAFKA_LISTENER_NAME_CLIENT_PLAIN_SASL_JAAS_CONFIG"], env_example)
    users = dict(re.findall(r'user_(\w+)="([^"]*)"', jaas))
    assert set(users) == {"admin", *KAFKA_USERS.values()}
    for service, user in KAFKA_USERS.items():
        service_env = {
            k: support.interpolate(v, env_example)
            for k, v in support.as_env(compose["services"][service]["environment"]).items()
        }
        assert (service_env["KAFKA_SECURITY_PROTOCOL"], service_env["KAFKA_SASL_MECHANISM"]) == (
            "SASL_PLAINTEXT",
            "PLAIN",
        )
        assert service_env["KAFKA_SASL_USERNAME"] == user
        assert service_env["KAFKA_SASL_PASSWORD"] == users[user], f"{service} uses its own user's password"
    assert len(set(users.values())) == len(users), "one password per user"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")


def test_each_kafka_user_gets_exactly_its_services_acls_and_transactions_last_24_hours(compose, env_example):
    script = support.interpolate(support.command_line(compose["services"]["kafka-topics"]["command"]), env_example)
    grants = sorted(line.split(None, 2)[1:] for line in script.splitlines() if line.strip().startswith("acl "))
    assert grants == sorted(
        [
            [
                "api",
                '--operation Write --operation Describe --topic "${prefix}transactions" --topic "${prefix}refunds"',
            ],
            ["panel", "--operation Read --group panel- --resource-pattern-type prefixed"],
            [
                "panel",
                '--operation Read --operation Describe --topic "${prefix}transactions_result" '
                '--topic "${prefix}refunds_result"',
            ],
            ["processor", '--operation Read --group "processor"'],
            [
                "processor",
                '--operation Read --operation Describe --topic "${prefix}transactions" --topic "${prefix}refunds"',
            ],
            [
                "processor",
                '--operation Write --operation Describe --topic "${prefix}transactions_result" '
                '--topic "${prefix}transactions_dlq" --topic "${prefix}refunds_result"',
            ],
            ["results", '--operation Read --group "gateway-results"'],
            [
                "results",
                '--operation Read --operation Describe --topic "${prefix}transactions_result" '
                '--topic "${prefix}refunds_result"',
            ],
            ["results", '--operation Write --operation Describe --topic "${prefix}transactions_dlq"'],
        ]
    )
    assert '[ "$topic" = transactions ] && retention=86400000' in script


def test_metrics_ports_are_scraped_inside_the_network_and_never_published(compose):
    """/metrics of every service is on its METRICS_PORT, which Prometheus scrapes by service name and
    compose publishes nowhere (the published API and panel ports do not serve it)."""
    config = yaml.safe_load((support.ROOT / "infra/prometheus/prometheus.yml").read_text())
    scraped = {t for job in config["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]}
    scraped |= {
        f"{n}:{sd['port']}"
        for job in config["scrape_configs"]
        for sd in job.get("dns_sd_configs", [])
        for n in sd["names"]
    }
    for name in ("api", "panel", "processor", "results", "webhooks"):
        service = compose["services"][name]
        metrics_port = str(service["environment"]["METRICS_PORT"])
        assert f"{name}:{metrics_port}" in scraped, name
        published = [support.interpolate(port, {}).rsplit(":", 1)[1] for port in service.get("ports", [])]
        assert metrics_port not in published, name


def test_published_ports_listen_on_localhost_unless_told_otherwise(compose, env_example):
    published = 0
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            published += 1
            assert support.interpolate(port, {}).startswith("127.0.0.1:"), name
            assert support.interpolate(port, env_example).startswith("127.0.0.1:"), name
    assert published == 4  # API, panel, Prometheus, Grafana


def test_redis_holds_the_rate_limits_of_every_api_replica_on_the_internal_network(compose, env_example):
    redis, api = compose["services"]["redis"], compose["services"]["api"]
    assert redis["image"].startswith("redis:7") and redis["networks"] == ["backend"] and "ports" not in redis
    assert (
        redis["read_only"] is True
        and redis["cap_drop"] == ["ALL"]
        and "no-new-privileges:true" in redis["security_opt"]
    )
    assert (
        "--requirepass" in support.command_line(redis["command"])
        and "redis-cli ping" in redis["healthcheck"]["test"][1]
    )
    assert api["depends_on"]["redis"] == {"condition": "service_healthy"}
    url = support.interpolate(support.as_env(api["environment"])["RATE_LIMIT_STORAGE_URL"], env_example)
    assert url == f"redis://:{env_example['REDIS_PASSWORD']}@redis:6379/0"
