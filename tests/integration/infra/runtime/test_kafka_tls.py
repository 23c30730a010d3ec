"""The Kafka client settings for a TLS + SASL cluster (Strimzi's listener): read from the environment,
refused when inconsistent, and really used by librdkafka: a TLS handshake with a server whose
certificate a private CA signed succeeds with KAFKA_SSL_CA_LOCATION and fails without it."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading

import pytest
from confluent_kafka import Producer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from infra.runtime.kafka import KafkaSettings, client_config
from infra.runtime.settings import ConfigurationError, EnvReader

SASL_SSL = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "gateway-api",
    "KAFKA_SASL_PASSWORD": "scram-password-0123456789",
}


def test_tls_and_scram_settings_reach_the_client_configuration(tmp_path):
    settings = KafkaSettings.from_env(EnvReader(SASL_SSL | {"KAFKA_SSL_CA_LOCATION": "/etc/kafka-ca/ca.crt"}))
    config = client_config(settings, "test")
    assert config["security.protocol"] == "SASL_SSL" and config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["ssl.ca.location"] == "/etc/kafka-ca/ca.crt"
    assert config["ssl.endpoint.identification.algorithm"] == "https"
    assert "scram-password" not in repr(settings)


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL must be one of"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
        ),
        (SASL_SSL | {"KAFKA_SASL_MECHANISM": "SCRAM-SHA-1"}, "KAFKA_SASL_MECHANISM must be one of"),
        ({"KAFKA_SSL_CA_LOCATION": "/ca.crt"}, "KAFKA_SSL_\\* settings need KAFKA_SECURITY_PROTOCOL=SSL or SASL_SSL"),
        (SASL_SSL | {"KAFKA_SSL_ENDPOINT_IDENTIFICATION": "off"}, "must be https or none"),
    ],
)
def test_inconsistent_security_settings_are_refused_at_start(env, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        KafkaSettings.from_env(EnvReader(env))


# --- a real TLS handshake -----------------------------------------------------------------------


def _certificate(subject: str, issuer_key, issuer_name, public_key, ca: bool):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_server(tmp_path):
    """A TCP server on localhost presenting a certificate signed by a private CA; records handshakes."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test cluster CA")])
    ca = _certificate("test cluster CA", ca_key, ca_name, ca_key.public_key(), ca=True)
    cert = _certificate("localhost", ca_key, ca_name, key.public_key(), ca=False)
    (tmp_path / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "server.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    outcomes, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(connection, server_side=True):
                    outcomes.append("handshake")
            except (ssl.SSLError, OSError):
                outcomes.append("refused")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], tmp_path / "ca.crt", outcomes
    stop.set()
    thread.join(5)
    listener.close()


def _connect(port: int, extra: dict) -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"localhost:{port}", "KAFKA_SECURITY_PROTOCOL": "SSL"} | extra
    producer = Producer(client_config(KafkaSettings.from_env(EnvReader(env)), "tls-test"))
    try:
        producer.list_topics(timeout=2)
    except Exception:  # noqa: BLE001 - the server speaks TLS, not Kafka: only the handshake matters
        pass


def test_the_client_trusts_the_cluster_ca_given_in_kafka_ssl_ca_location(tls_server):
    port, ca, outcomes = tls_server
    _connect(port, {"KAFKA_SSL_CA_LOCATION": str(ca)})
    assert "handshake" in outcomes


def test_without_the_cluster_ca_the_client_refuses_the_broker(tls_server, tmp_path):
    port, _, outcomes = tls_server
    _connect(port, {})  # the system's public CAs do not know a cluster's private CA
    assert outcomes and "handshake" not in outcomes
