"""Liveness is the loop's heartbeat age; readiness adds the service's checks."""

from infra.runtime.health import Heartbeat, Probes


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_heartbeat_older_than_the_stall_limit_is_not_alive():
    clock = Clock()
    probes = Probes(Heartbeat(clock), stall_after=60)
    clock.now += 60
    assert probes.liveness()[0]
    clock.now += 0.5
    alive, body = probes.liveness()
    assert not alive and body["status"] == "stuck" and body["loop_heartbeat_age_seconds"] == 60.5
    probes.heartbeat.beat()
    assert probes.liveness()[0]


def test_readiness_needs_a_live_loop_and_every_check():
    clock = Clock()
    answers = {"schema": True}
    probes = Probes(Heartbeat(clock), 60, [("database_schema", lambda: answers["schema"]), ("flaky", lambda: 1 / 0)])
    ready, body = probes.readiness()
    assert not ready and body["checks"] == {"loop": "ok", "database_schema": "ok", "flaky": "unavailable"}
    probes = Probes(Heartbeat(clock), 60, [("database_schema", lambda: answers["schema"])])
    assert probes.readiness()[0]
    answers["schema"] = False
    assert probes.readiness()[1]["checks"]["database_schema"] == "not ready"
    answers["schema"] = True
    clock.now += 61
    assert probes.readiness()[1]["checks"]["loop"] == "stuck"
