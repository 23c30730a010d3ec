"""The gateway API, called service to service on behalf of the signed-in user.

The panel never reads the gateway's database: identities, transactions and reports all come from
its HTTP API, so the panel shows exactly what a merchant's own integration would see.
"""

from __future__ import annotations

import threading
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from infra.kernel.principals import ADMIN, Principal
from infra.runtime.errors import error_body

from panel.domain.credential import Credential
from panel.use_cases.ports import CsvDocument, Gateway, GatewayRefused, GatewayUnavailable, NotAuthenticated


class GatewayClient(Gateway):
    """The port over HTTP (``requests``), one pooled session per thread."""

    def __init__(self, base_url: str, timeout: float):
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()  # one pooled session per thread: Session is not thread-safe

    def me(self, credential: Credential) -> Principal:
        """Who this credential is, as the API sees it right now (raises NotAuthenticated once void)."""
        return _principal(self.get_json(credential, "/v1/me"))

    def open_session(
        self, credential: Credential, ttl_seconds: int, one_time_code: str | None = None
    ) -> tuple[Principal, Credential]:
        """Exchange the person's credential (and an operator's one-time code) for a revocable,
        read-only session token."""
        payload = {"ttl_seconds": ttl_seconds} | ({"one_time_code": one_time_code} if one_time_code else {})
        body = self._json(self._request("POST", credential, "/v1/sessions", json=payload))
        if not isinstance(body.get("token"), str):
            raise GatewayUnavailable("no session token in the answer")
        return _principal(body), Credential.session(body["token"])

    def close_session(self, credential: Credential) -> None:
        """Sign-out: the session token stops working for every panel process at once."""
        self._request("DELETE", credential, "/v1/sessions/current")

    def get_json(self, credential: Credential, path: str, params: dict | None = None) -> dict:
        return self._json(self._request("GET", credential, path, params=params))

    def send_json(self, credential: Credential, method: str, path: str, body: dict | None = None) -> dict:
        """A POST or DELETE with the person's own credential (changing webhooks): a panel session
        token can only read."""
        return self._json(self._request(method, credential, path, json=body))

    def get_csv(self, credential: Credential, path: str, params: dict | None = None) -> CsvDocument:
        response = self._request("GET", credential, path, params=params, accept="text/csv")
        return CsvDocument(response.content, response.headers.get("Content-Type", CsvDocument.content_type))

    def transaction_path(self, transaction_id: str) -> str:
        return "/v1/transactions/" + quote(transaction_id, safe="")

    def _request(
        self,
        method: str,
        credential: Credential,
        path: str,
        params: dict | None = None,
        json: dict | None = None,
        accept: str = "application/json",
    ) -> requests.Response:
        headers = {"Authorization": credential.authorization(), "Accept": accept}
        try:
            response = self._session().request(
                method, self._base_url + path, params=_clean(params), json=json, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            raise GatewayUnavailable(type(exc).__name__) from None
        if response.status_code < 400:
            return response
        raise _error_for(response)

    @staticmethod
    def _json(response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            raise GatewayUnavailable("response is not JSON") from None
        if not isinstance(body, dict):
            raise GatewayUnavailable("response is not a JSON object")
        return body

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.mount(self._base_url, HTTPAdapter(max_retries=_SEND_READS_AGAIN))
        return session


# The API closes a connection idle for its keep-alive (gunicorn: 2 s); one the panel reuses just then
# fails unanswered. A read is sent once more on a fresh connection; a write never (it may have been
# applied), and no answer with a status is ever retried.
_SEND_READS_AGAIN = Retry(
    total=1,
    connect=1,
    read=1,
    status=0,
    other=0,
    redirect=0,
    allowed_methods=frozenset({"GET", "HEAD"}),
    raise_on_status=False,
)


def _principal(body: dict) -> Principal:
    if body.get("type") == ADMIN:
        return Principal(ADMIN, name=str(body.get("name") or ""))
    return Principal(str(body.get("type", "")), str(body.get("account_id", "")), str(body.get("name", "")))


def _clean(params: dict | None) -> dict:
    return {key: value for key, value in (params or {}).items() if value not in (None, "")}


def _error_for(response: requests.Response) -> GatewayRefused:
    if response.status_code >= 500:
        return GatewayUnavailable(f"status {response.status_code}")
    try:
        body = response.json()
        body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        body = error_body("invalid_request_error", "gateway_error", f"The gateway answered {response.status_code}.")
    if response.status_code == 401:
        return NotAuthenticated(401, body)
    return GatewayRefused(response.status_code, body)
