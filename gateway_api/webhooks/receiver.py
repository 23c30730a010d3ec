"""A webhook receiver for development: prints every event it gets and whether its signature verifies.

    python -m gateway_api.webhooks.receiver --api http://127.0.0.1:8000 --account ACCOUNT_ID --secret SECRET

registers itself as an endpoint of that merchant (every event type), checks each delivery with the
signing secret it was given, and deletes the endpoint again on Ctrl-C. With ``--signing-secret whsec_...``
instead, it only listens (for an endpoint you created yourself). The API must allow private URLs
(WEBHOOK_ALLOW_PRIVATE_URLS=true, as `make run` sets it).
"""

from __future__ import annotations

import argparse
import base64
import json
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gateway_api.domain.webhook_signature import EVENT_ID_HEADER, SIGNATURE_HEADER, verify


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    state = {"secret": args.signing_secret, "endpoint": None}
    server = _Server((args.host, args.port), _handler(lambda: state["secret"]))
    url = f"http://{args.host}:{server.server_port}/webhooks"
    if args.api:
        try:
            state["endpoint"], state["secret"] = _register(args, url)
        except (urllib.error.URLError, OSError, KeyError) as exc:
            print(f"could not register {url} with {args.api}: {_reason(exc)}", file=sys.stderr)
            return 1
        print(f"registered endpoint {state['endpoint']} -> {url} (every event type)", flush=True)
    print(
        f"listening on {url}; signatures checked with {'the endpoint secret' if state['secret'] else 'nothing'}",
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if state["endpoint"]:
            _call(args, "DELETE", f"/v1/webhook_endpoints/{state['endpoint']}")
            print(f"deleted endpoint {state['endpoint']}", flush=True)
    return 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the dispatcher opens up to WEBHOOK_CONCURRENCY connections at once


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway_api.webhooks.receiver", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010, help="0 picks a free port")
    parser.add_argument("--api", help="the gateway API, to register this receiver as an endpoint")
    parser.add_argument("--account", help="merchant account id (with --api)")
    parser.add_argument("--secret", help="merchant API secret (with --api)")
    parser.add_argument("--signing-secret", help="whsec_... of an endpoint you created yourself (without --api)")
    args = parser.parse_args(argv)
    if args.api and not (args.account and args.secret):
        parser.error("--api needs --account and --secret")
    if not args.api and not args.signing_secret:
        parser.error("give --api with --account and --secret, or --signing-secret")
    return args


def _register(args: argparse.Namespace, url: str) -> tuple[str, str]:
    body = {"url": url, "enabled_events": ["*"], "description": "local receiver (gateway_api.webhooks.receiver)"}
    endpoint = _call(args, "POST", "/v1/webhook_endpoints", body)
    return endpoint["id"], endpoint["secret"]


def _call(args: argparse.Namespace, method: str, path: str, body: dict | None = None) -> dict:
    token = base64.b64encode(f"{args.account}:{args.secret}".encode()).decode()
    request = urllib.request.Request(
        args.api.rstrip("/") + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def _reason(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        try:
            return json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            return f"HTTP {exc.code}"
    return str(exc)


def _handler(secret):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer waits ~40 ms for the dispatcher's delayed ACK

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            valid = verify(body, self.headers.get(SIGNATURE_HEADER, ""), secret())
            print(_describe(body, self.headers.get(EVENT_ID_HEADER, "?"), valid), flush=True)
            answer = b'{"received": true}' if valid else b'{"error": "bad signature"}'
            self.send_response(200 if valid else 400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Handler


def _describe(body: bytes, event_id: str, valid: bool) -> str:
    try:
        event = json.loads(body)
        transaction = event["data"]["object"]
        what = f"{event['type']} transaction {transaction['id']} {transaction['status']} {transaction['amount']}" + (
            f" ({transaction['error_message']})" if transaction.get("error_message") else ""
        )
    except (ValueError, KeyError, TypeError):
        what = "not an event"
    return f"{event_id} {what}: signature {'ok' if valid else 'INVALID'}"


if __name__ == "__main__":
    sys.exit(main())
