"""The gateway API, called service to service on behalf of the signed-in user.

The panel never reads the gateway's database: identities, transactions and reports all come from
its HTTP API, so the panel shows exactly what a merchant's own integration would see.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import quote

import requests

from panel.domain.principal import ADMIN, Credential, Principal


class GatewayError(Exception):
    """The gateway answered with an error (``status``, ``body`` in the API's error format)."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"gateway answered {status}")
        self.status = status
        self.body = body


class NotAuthenticated(GatewayError):
    """The credential is wrong, rotated or disabled."""


class GatewayUnavailable(GatewayError):
    """The gateway could not be reached or failed; the panel answers 502 and says so."""

    def __init__(self, detail: str):
        super().__init__(502, error_body("api_error", "gateway_unavailable",
                                         "The gateway API is unavailable; try again shortly."))
        self.detail = detail


def error_body(type_: str, code: str, message: str, param: str | None = None) -> dict:
    return {"error": {"type": type_, "code": code, "message": message, "param": param}}


@dataclass(frozen=True)
class CsvDocument:
    content: bytes
    content_type: str = field(default="text/csv; charset=utf-8")


class GatewayClient:
    def __init__(self, base_url: str, timeout: float):
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()  # one pooled session per thread: Session is not thread-safe

    def me(self, credential: Credential) -> Principal:
        body = self.get_json(credential, "/v1/me")
        if body.get("type") == ADMIN:
            return Principal(ADMIN)
        return Principal(body.get("type", ""), str(body.get("account_id", "")), str(body.get("name", "")))

    def get_json(self, credential: Credential, path: str, params: dict | None = None) -> dict:
        response = self._get(credential, path, params, accept="application/json")
        try:
            return response.json()
        except ValueError:
            raise GatewayUnavailable("response is not JSON") from None

    def send_json(self, credential: Credential, method: str, path: str, body: dict | None = None) -> dict:
        """A POST or DELETE on the user's behalf (webhook endpoints, resends); the answer's JSON."""
        response = self._request(credential, method, path, accept="application/json", json=body)
        try:
            return response.json()
        except ValueError:
            raise GatewayUnavailable("response is not JSON") from None

    def get_csv(self, credential: Credential, path: str, params: dict | None = None) -> CsvDocument:
        response = self._get(credential, path, params, accept="text/csv")
        return CsvDocument(response.content, response.headers.get("Content-Type", CsvDocument.content_type))

    def transaction_path(self, transaction_id: str) -> str:
        return "/v1/transactions/" + quote(transaction_id, safe="")

    def _get(self, credential: Credential, path: str, params: dict | None, accept: str) -> requests.Response:
        return self._request(credential, "GET", path, accept, params=_clean(params))

    def _request(self, credential: Credential, method: str, path: str, accept: str, **kwargs) -> requests.Response:
        headers = {"Authorization": credential.authorization(), "Accept": accept}
        try:
            response = self._session().request(method, self._base_url + path, headers=headers, timeout=self._timeout,
                                               **kwargs)
        except requests.RequestException as exc:
            raise GatewayUnavailable(type(exc).__name__) from None
        if response.status_code < 400:
            return response
        raise _error_for(response)

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


def _clean(params: dict | None) -> dict:
    return {key: value for key, value in (params or {}).items() if value not in (None, "")}


def _error_for(response: requests.Response) -> GatewayError:
    if response.status_code >= 500:
        return GatewayUnavailable(f"status {response.status_code}")
    try:
        body = response.json()
        body["error"]["message"]
    except (ValueError, KeyError, TypeError):
        body = error_body("invalid_request_error", "gateway_error", f"The gateway answered {response.status_code}.")
    if response.status_code == 401:
        return NotAuthenticated(401, body)
    return GatewayError(response.status_code, body)
