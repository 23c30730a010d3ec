"""Panel sessions with a fake store: expiry, lifetime cap, credential changes."""

from datetime import datetime, timedelta

from gateway_api.domain.accounts import Account, SecretHasher
from gateway_api.domain.sessions import MAX_TTL
from gateway_api.use_cases.ports import AccountRepository, SessionStore
from gateway_api.use_cases.sessions import Sessions

NOW = datetime(2026, 11, 23, 10, 0)


class FakeSessions(SessionStore):
    def __init__(self):
        self.rows = {}

    def add(self, session):
        self.rows[session.token_hash] = session

    def get(self, token_hash):
        return self.rows.get(token_hash)

    def revoke(self, token_hash):
        from dataclasses import replace

        self.rows[token_hash] = replace(self.rows[token_hash], revoked=True)

    def purge_expired(self, before):
        self.rows = {key: s for key, s in self.rows.items() if s.expires_at >= before}


class FakeAccounts(AccountRepository):
    def __init__(self, *accounts):
        self.rows = {a.id: a for a in accounts}

    def add(self, account):
        self.rows[account.id] = account

    def get(self, account_id):
        return self.rows.get(account_id)

    def every_account(self):
        return list(self.rows.values())

    def set_secret_hash(self, account_id, secret_hash):
        raise NotImplementedError

    def disable(self, account_id):
        raise NotImplementedError

    def set_rate_limit(self, account_id, requests_per_second):
        raise NotImplementedError


def parts():
    hasher, clock = SecretHasher("pepper"), [NOW]
    account = Account("acct_1", "Shop", hasher.digest("sk_1"), NOW)
    store = FakeSessions()
    return Sessions(store, FakeAccounts(account), hasher, "admin-token", lambda: clock[0]), store, account, clock


def test_a_session_lives_until_it_expires_and_at_most_24_hours():
    sessions, store, account, clock = parts()
    issued = sessions.open(account, timedelta(days=30))
    assert issued.session.expires_at == NOW + MAX_TTL
    clock[0] = NOW + MAX_TTL - timedelta(seconds=1)
    assert sessions.authenticate(issued.token).account == account
    clock[0] = NOW + MAX_TTL
    assert sessions.authenticate(issued.token) is None


def test_expired_sessions_are_purged_when_another_opens():
    sessions, store, account, clock = parts()
    sessions.open(account, timedelta(hours=1))
    clock[0] = NOW + timedelta(hours=2)
    sessions.open(None, timedelta(hours=1))
    assert [s.kind for s in store.rows.values()] == ["admin"]


def test_an_ended_session_and_a_foreign_token_authenticate_nobody():
    sessions, store, account, _ = parts()
    issued = sessions.open(account, timedelta(hours=1))
    sessions.end(issued.session)
    assert sessions.authenticate(issued.token) is None
    assert sessions.authenticate("sk_1") is None and sessions.authenticate("sess_forged") is None
    assert "sess_" not in repr(issued)
