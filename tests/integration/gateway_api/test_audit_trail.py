"""The audit trail on SQLite and MariaDB: every configuration change appends one entry (who, what,
which object, from where, when, outcome; never a secret), and editing, deleting or swapping any row
makes `audit verify` fail naming the first bad entry, the newest ones included (against the head)."""

from __future__ import annotations

import pytest
import sqlalchemy
from prometheus_client import CollectorRegistry
from sqlalchemy import delete, select, update

from infra.kernel.clock import utc_now

from gateway_api.adapters.audit_repository import SqlAuditLog
from gateway_api.adapters.metrics import AuditMetrics
from gateway_api.adapters.tables import audit_events
from gateway_api.domain.audit import CLI, Actor, AuditRecord, Origin
from gateway_api.use_cases.audit import AuditTrail, AuditWatch
from tests.integration.gateway_api.operator_support import AUDIT_KEY, api_on, bearer, cli, close, create_operator
from tests.integration.gateway_api.support import ADMIN
from tests.support.concurrency import most_in_flight, race


@pytest.fixture
def api(database_url, api_settings):
    app = api_on(database_url, api_settings)
    yield app
    close(app)


@pytest.fixture
def client(api):
    return api.test_client()


def changes(client) -> dict[str, str]:
    """One of every configuration change the API takes; the secrets it was shown, by name."""
    ada = bearer(create_operator(client, "ada"))
    account = client.post("/v1/accounts", json={"name": "Shop"}, headers=ada).json
    rotated = client.post(f"/v1/accounts/{account['id']}/secret", headers=ada).json
    merchant = (account["id"], rotated["secret"])
    endpoint = client.post(
        "/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}, auth=merchant
    ).json
    rolled = client.post(f"/v1/webhook_endpoints/{endpoint['id']}/secret", auth=merchant).json
    assert client.delete(f"/v1/webhook_endpoints/{endpoint['id']}", auth=merchant).status_code == 200
    assert client.post("/v1/events/evt_unknown/resend", auth=merchant).status_code == 404
    session = client.post("/v1/sessions", json={}, auth=merchant).json["token"]
    assert client.delete("/v1/sessions/current", headers=bearer(session)).status_code == 204
    assert client.delete(f"/v1/accounts/{account['id']}", headers=ada).status_code == 200
    assert client.delete("/v1/operators/ada", headers=ADMIN).status_code == 200
    return {
        "account": account["secret"],
        "rotated": rotated["secret"],
        "endpoint": endpoint["secret"],
        "rolled": rolled["secret"],
        "session": session,
        "operator": ada["Authorization"][7:],
    }


def entries(client, headers=ADMIN, **params) -> list[dict]:
    return client.get("/v1/audit_events", headers=headers, query_string=params).json["data"]


def test_every_configuration_change_appends_one_entry_without_any_secret(client):
    secrets = changes(client)
    listed = entries(client, limit=100)
    assert [e["action"] for e in reversed(listed)] == [
        "operator.create",
        "account.create",
        "account.rotate_secret",
        "webhook_endpoint.create",
        "webhook_endpoint.roll_secret",
        "webhook_endpoint.delete",
        "event.resend",
        "session.open",
        "session.end",
        "account.disable",
        "operator.disable",
    ]
    resend = next(e for e in listed if e["action"] == "event.resend")
    assert (resend["outcome"], resend["object_id"], resend["credential"]) == (
        "failed: not_found",
        "evt_unknown",
        "secret",
    )
    session_end = next(e for e in listed if e["action"] == "session.end")
    assert session_end["credential"] == "session" and session_end["actor_kind"] == "merchant"
    assert [e["seq"] for e in listed] == list(range(len(listed), 0, -1))
    text = str(listed)
    assert [name for name, secret in secrets.items() if secret in text] == []


def test_a_merchant_sees_only_its_own_entries_and_pages_like_every_listing(client):
    changes(client)
    other = client.post("/v1/accounts", json={"name": "Other"}, headers=ADMIN).json
    merchant = (other["id"], other["secret"])
    seen = client.get("/v1/audit_events", auth=merchant).json["data"]
    assert [e["action"] for e in seen] == ["account.create"] and seen[0]["account_id"] == other["id"]
    first = entries(client, limit=4)
    rest = entries(client, limit=100, starting_after=first[-1]["id"])
    assert [e["seq"] for e in first + rest] == list(range(first[0]["seq"], 0, -1))
    assert client.get("/v1/audit_events", headers=ADMIN, query_string={"starting_after": "aud_nope"}).status_code == 422


def test_the_chain_verifies_and_its_head_is_what_the_cli_prints(client, api):
    changes(client)
    code, head = cli(api, "audit", "head")
    assert code == 0 and head["head"].startswith("11:")
    code, verified = cli(api, "audit", "verify", "--head", head["head"])
    assert code == 0 and verified == {
        "ok": True,
        "checked": 11,
        "head": head["head"],
        "first_bad": None,
        "problem": None,
    }


def edit_actor(connection, seq):
    connection.execute(update(audit_events).where(audit_events.c.seq == seq).values(actor="mallory"))


def edit_outcome_and_rehash_without_the_key(connection, seq):
    connection.execute(update(audit_events).where(audit_events.c.seq == seq).values(outcome="succeeded", hash="0" * 64))


def delete_row(connection, seq):
    connection.execute(delete(audit_events).where(audit_events.c.seq == seq))


def swap_with_next(connection, seq):
    rows = {
        row.seq: row for row in connection.execute(select(audit_events).where(audit_events.c.seq.in_([seq, seq + 1])))
    }
    connection.execute(delete(audit_events).where(audit_events.c.seq.in_([seq, seq + 1])))
    for new_seq, row in ((seq, rows[seq + 1]), (seq + 1, rows[seq])):
        connection.execute(audit_events.insert().values({**row._asdict(), "seq": new_seq}))


@pytest.mark.parametrize("tamper", [edit_actor, edit_outcome_and_rehash_without_the_key, delete_row, swap_with_next])
@pytest.mark.parametrize("seq", [1, 5, 10])
def test_tampering_with_any_row_names_the_first_bad_entry(client, api, tamper, seq):
    changes(client)
    _, head = cli(api, "audit", "head")
    with api.extensions["gateway_api"].engine.begin() as connection:
        tamper(connection, seq)
    code, verified = cli(api, "audit", "verify", "--head", head["head"])
    assert code == 1 and verified["ok"] is False and verified["first_bad"] == seq, verified
    assert verified["problem"]


def test_removing_the_newest_entries_is_caught_against_the_exported_head(client, api):
    changes(client)
    _, head = cli(api, "audit", "head")
    with api.extensions["gateway_api"].engine.begin() as connection:
        connection.execute(delete(audit_events).where(audit_events.c.seq >= 10))
    assert cli(api, "audit", "verify")[0] == 0  # a shorter chain is still a chain...
    code, verified = cli(api, "audit", "verify", "--head", head["head"])  # ...but not the one exported
    assert code == 1 and verified["first_bad"] == 10 and "removed" in verified["problem"]


def test_a_forged_head_is_refused(client, api):
    changes(client)
    code, verified = cli(api, "audit", "verify", "--head", "11:" + "ab" * 32)
    assert code == 1 and verified["first_bad"] == 11
    assert cli(api, "audit", "verify", "--head", "eleven")[0] == 2  # a malformed head is a usage error


def test_the_periodic_check_exports_the_head_and_catches_newest_entries_removed_since_the_last_check(client, api):
    changes(client)
    registry = CollectorRegistry()
    watch = AuditWatch(api.extensions["gateway_api"].audit, AuditMetrics(registry).checked, clock=lambda: 1000.0)
    assert watch.check().ok
    _, head = cli(api, "audit", "head")
    seq, digest = head["head"].split(":")
    assert registry.get_sample_value("gateway_audit_chain_head_seq") == int(seq) == 11
    assert registry.get_sample_value("gateway_audit_chain_head_info", {"seq": seq, "hash": digest}) == 1
    assert registry.get_sample_value("gateway_audit_chain_valid") == 1
    with api.extensions["gateway_api"].engine.begin() as connection:
        connection.execute(delete(audit_events).where(audit_events.c.seq == 11))
    assert not watch.check().ok
    assert registry.get_sample_value("gateway_audit_chain_valid") == 0
    assert registry.get_sample_value("gateway_audit_chain_first_bad_seq") == 11
    assert registry.get_sample_value("gateway_audit_chain_head_seq") == 11  # the head it had verified stays exported


def test_the_command_line_s_changes_are_audited_under_the_os_user(client, api):
    code, account = cli(api, "accounts", "create", "--name", "Shop")
    assert code == 0
    code, operator = cli(api, "operators", "create", "--name", "grace")
    assert code == 0 and operator["credential"].startswith("gop_op_")
    listed = entries(client)
    assert [(e["action"], e["object_id"], e["actor_kind"], e["credential"]) for e in reversed(listed)] == [
        ("account.create", account["id"], "cli", "database"),
        ("operator.create", "grace", "cli", "database"),
    ]
    assert all(e["actor"].startswith("cli:") for e in listed)
    assert operator["credential"] not in str(listed) and account["secret"] not in str(listed)


def test_concurrent_changes_each_get_their_own_place_in_one_chain(api):
    """Writers that read the same head race for its next sequence number: one wins, the other
    chains after it. Nothing is lost, nothing is numbered twice, and the chain verifies. Two
    threads on each of four trails: a trail's writers take turns, the trails race as processes do."""
    audit = api.extensions["gateway_api"].audit
    trails = [
        AuditTrail(SqlAuditLog(api.extensions["gateway_api"].engine), AUDIT_KEY.encode(), utc_now) for _ in range(4)
    ]
    results, spans = race_five_entries_each(lambda racer: trails[racer % len(trails)], 8)
    assert most_in_flight(spans) > 1
    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, 41))
    assert audit.verify().ok and audit.verify().checked == 40


def test_writers_of_one_process_take_turns_instead_of_losing_races(api):
    """A lost race costs a rolled-back transaction and a pause; in one process the writers wait their
    turn instead (20 immediate attempts once ran out for one of 8 racers under CI's load)."""
    audit, engine = api.extensions["gateway_api"].audit, api.extensions["gateway_api"].engine
    lost = []
    sqlalchemy.event.listen(
        engine, "handle_error", lambda context: lost.append(type(context.original_exception).__name__)
    )
    results, spans = race_five_entries_each(lambda _racer: audit, 8)
    assert most_in_flight(spans) > 1
    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, 41))
    assert lost == []


def race_five_entries_each(trail_of, racers: int):
    """``racers`` threads released at once, each recording 5 entries on ``trail_of(racer)``: the
    sequence numbers each got, and the spans of the calls."""
    actor, origin = Actor(CLI, "cli:test", "database"), Origin(None, "cli")

    def record_five(racer: int):
        trail = trail_of(racer)
        return [
            trail.record(AuditRecord(actor, "account.create", "account", f"acct_{racer}_{i}", origin)).seq
            for i in range(5)
        ]

    return race(record_five, racers)
