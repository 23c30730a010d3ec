"""`make run`: the whole gateway on the embedded default, until Ctrl-C.

python -m infra.stack        (ports, data folder and dev credentials: see StackSettings / docs/configuration.md)
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import datetime, timezone

from infra.runtime.settings import DEVELOPMENT_SECRETS_OPT_IN, ConfigurationError
from infra.stack import reaper
from infra.stack.demo import CLI_ENV_FILE, DEMO_FILE, demo_merchant
from infra.stack.settings import StackSettings
from infra.stack.stack import Stack, StackError


def main() -> int:
    try:
        settings = StackSettings.from_env()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = Stack(settings)
    try:
        stack.start()
        print_welcome(stack, demo_merchant(stack))
        return run_until_stopped(stack, stop)
    except StackError as exc:
        print(f"\nmake run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        killed = stack.stop()
        reaper.release()  # nothing is left for it to stop: it ends now, not after this process
        print("stopped" + (f" (killed after the grace period: {', '.join(killed)})" if killed else ""), flush=True)


def run_until_stopped(stack: Stack, stop: threading.Event) -> int:
    while not stop.wait(0.5):
        if crashed := stack.crashed():
            print(f"\n{', '.join(crashed)} stopped unexpectedly; see {stack.log_dir}/", file=sys.stderr)
            return 1
    return 0


def secrets_note(settings) -> str:
    if settings.uses_development_secrets:
        return (
            f"DEVELOPMENT values ({DEVELOPMENT_SECRETS_OPT_IN}=true): public, for this laptop only; "
            "a deployment refuses them"
        )
    return "your own (GATEWAY_ADMIN_TOKEN, GATEWAY_SECRET_PEPPER, PANEL_SECRET_KEY, CARD_DATA_KEYS)"


def print_welcome(stack: Stack, merchant: dict) -> None:
    s = stack.settings
    card = {
        "number": "4111111111111111",
        "name": "Ada Lovelace",
        "expiration_month": 12,
        "expiration_year": datetime.now(timezone.utc).year + 2,
        "cvv": "123",
    }
    body = '{"amount": "10.50", "credit_card": ' + str(card).replace("'", '"') + "}"
    auth = f"{merchant['id']}:{merchant['secret']}"
    webhook_rule = (
        "(WEBHOOK_ALLOW_PRIVATE_URLS=true: http:// and local addresses are allowed here)"
        if s.webhook_allow_private_urls
        else "(only https:// URLs on public addresses)"
    )
    print(
        f"""
============================================================================================
 Payment gateway running (Ctrl-C stops everything)
   API         {s.api_url}        docs {s.api_url}/docs
   Panel       {s.panel_url}        sign in with the demo merchant or the admin token
   Kafka       {s.kafka_bootstrap}   databases and logs under {s.var_dir}/
   Prometheus  {stack.prometheus_url or "not running (apt-get install prometheus, then make run again)"}
   Admin token {s.admin_token.reveal()}
   Secrets     {secrets_note(s)}

 Demo merchant (kept in {s.var_dir}/{DEMO_FILE}: the next `make run` reuses it)
   account id  {merchant["id"]}
   secret      {merchant["secret"]}

 Try it: a transaction is accepted (202, "pending") and decided within a fraction of a second
   curl -s -u {auth} -H 'Content-Type: application/json' \\
        -d '{body}' {s.api_url}/v1/transactions
   then read it back; this polls until the newest one is no longer pending:
   until curl -s -u {auth} '{s.api_url}/v1/transactions?limit=1' | grep -v '"pending"'; do sleep 0.2; done

 Operator commands with the running API's settings (pepper, database):
   set -a; . {s.var_dir}/{CLI_ENV_FILE}; set +a; {_python()} -m gateway_api accounts create --name Shop

 Webhooks {webhook_rule}
   a local receiver that registers itself for the demo merchant and checks every signature:
   {_python()} -m gateway_api.webhooks.receiver --port 8010 --api {s.api_url} \\
        --account {merchant["id"]} --secret {merchant["secret"]}
   then pay with the curl above; events: curl -s -u {merchant["id"]}:{merchant["secret"]} {s.api_url}/v1/events
============================================================================================
""",
        flush=True,
    )


def _python() -> str:
    """The interpreter of this stack (the venv's), as short as it can be written from here."""
    relative = os.path.relpath(sys.executable)
    return relative if not relative.startswith("..") else sys.executable


if __name__ == "__main__":
    sys.exit(main())
