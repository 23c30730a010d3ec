"""Operator commands, available two ways:

    python -m gateway_api migrate
    python -m gateway_api accounts create --name Shop      # prints {"id", "name", "secret"} as JSON
    python -m gateway_api accounts set-rate-limit ACCOUNT_ID --per-second 500   # or --default
    python -m gateway_api idempotency purge                # prints {"purged": N}
    python -m gateway_api operators create --name ada      # prints the operator and its credential (once)
    python -m gateway_api audit verify --head SEQ:HASH     # exit 1 naming the first bad entry
    flask --app gateway_api accounts create --name Shop

Only the command's result goes to stdout (one JSON line); logs go to stderr. A missing or weak
setting is one line on stderr naming the variable, and exit code 2. Under `make run`:

    set -a; . var/gateway.env; set +a        # the running API's settings (pepper, database, ...)
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
from datetime import timedelta

import click
from flask import current_app, has_app_context

from infra.runtime.db import migrate
from infra.runtime.logs import configure_logging
from infra.runtime.settings import from_env_or_exit

from gateway_api.domain.audit import CLI, Actor, AuditRecord, ChainHead, Origin
from gateway_api.domain.errors import GatewayError
from gateway_api.migrations import SCRIPT_LOCATION
from gateway_api.settings import MigrationSettings
from gateway_api.web import presenters
from gateway_api.web.operators import operator as _operator  # the API's shape, one definition

# The API's secrets (its pepper above all: a secret hashed with another one never signs in) are
# those of the running API; `make run` writes them where one line loads them.
CLI_HINT = "under `make run`, load the API's settings first: set -a; . var/gateway.env; set +a"


def _services():
    """The app's services under ``flask --app gateway_api``; under ``python -m gateway_api``, the ones
    built by what ``__main__`` handed the group as ``obj`` (so this module needs no composition root)."""
    if has_app_context():
        return current_app.extensions["gateway_api"]
    return click.get_current_context().obj()


def _logs_to_stderr() -> None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)


def _print(data: dict) -> None:
    click.echo(json.dumps(data))


class _Command(click.Command):
    """Domain errors (unknown account, bad name) become a one-line message and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GatewayError as exc:
            raise click.ClickException(exc.message) from None


class _Group(click.Group):
    command_class = _Command


@click.command("migrate", help="Apply the ledger's database migrations (DATABASE_URL).")
def migrate_cli() -> None:
    _logs_to_stderr()
    # Only the database: the migration job holds no admin token, pepper or card key.
    migrate(from_env_or_exit(MigrationSettings).database_url, SCRIPT_LOCATION)
    _print({"migrated": True})


@click.group("accounts", help="Merchant accounts.", cls=_Group)
def accounts_cli() -> None:
    _logs_to_stderr()


def _audit(action: str, object_type: str, object_id: str, account_id: str | None = None) -> None:
    """The command line holds the database, not a credential: its entries name the OS user."""
    actor = Actor(CLI, f"cli:{_os_user()}", "database")
    _services().audit.record(
        AuditRecord(actor, action, object_type, object_id, Origin(None, "cli"), "succeeded", account_id)
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@accounts_cli.command("create", help="Create a merchant account; prints its id, name and secret (shown once).")
@click.option("--name", required=True)
def create_account(name: str) -> None:
    issued = _services().accounts.create(name)
    _audit("account.create", "account", issued.account.id, issued.account.id)
    _print(presenters.issued_secret(issued))


@accounts_cli.command("rotate-secret", help="Issue a new secret for an account; the old one stops working.")
@click.argument("account_id")
def rotate_secret(account_id: str) -> None:
    issued = _services().accounts.rotate_secret(account_id)
    _audit("account.rotate_secret", "account", account_id, account_id)
    _print(presenters.issued_secret(issued))


@accounts_cli.command("disable", help="Disable an account: its secret stops working.")
@click.argument("account_id")
def disable_account(account_id: str) -> None:
    account = _services().accounts.disable(account_id)
    _audit("account.disable", "account", account_id, account_id)
    _print(presenters.account(account))


@click.group("operators", help="Named operators (per-person credentials; docs/integrate.md, Operators).", cls=_Group)
def operators_cli() -> None:
    _logs_to_stderr()


@operators_cli.command("create", help="Create an operator; prints its credential (shown once).")
@click.option("--name", required=True)
@click.option("--expires-in-days", default=90, show_default=True, type=click.IntRange(1, 366))
def create_operator(name: str, expires_in_days: int) -> None:
    issued = _services().operators.create(name, timedelta(days=expires_in_days))
    _audit("operator.create", "operator", name)
    _print(_operator(issued.operator) | {"credential": issued.credential})


@operators_cli.command("reissue", help="A new credential (and expiry) for an operator; the old one stops working.")
@click.argument("name")
@click.option("--expires-in-days", default=90, show_default=True, type=click.IntRange(1, 366))
def reissue_operator(name: str, expires_in_days: int) -> None:
    issued = _services().operators.reissue(name, timedelta(days=expires_in_days))
    _audit("operator.reissue", "operator", name)
    _print(_operator(issued.operator) | {"credential": issued.credential})


@operators_cli.command("disable", help="Revoke an operator: credential and panel sessions stop working at once.")
@click.argument("name")
def disable_operator(name: str) -> None:
    operator = _services().operators.disable(name)
    _audit("operator.disable", "operator", name)
    _print(_operator(operator))


@operators_cli.command(
    "require-second-factor",
    help="Require a TOTP code at the operator's panel sign-in; "
    "prints the secret and otpauth:// URI for the app (once).",
)
@click.argument("name")
def require_second_factor(name: str) -> None:
    factor = _services().operators.require_second_factor(name)
    _audit("operator.require_second_factor", "operator", name)
    _print(_operator(factor.operator) | {"totp_secret": factor.secret, "provisioning_uri": factor.provisioning_uri})


@operators_cli.command("list", help="Every operator, without credentials.")
def list_operators() -> None:
    _print({"data": [_operator(o) for o in _services().operators.every_operator()]})


@click.group("audit", help="The audit trail (docs/integrate.md, Audit trail).", cls=_Group)
def audit_cli() -> None:
    _logs_to_stderr()


@audit_cli.command(
    "verify",
    help="Check every entry's HMAC and chain; with --head, that the chain still reaches "
    "the last exported head. Exit 1 naming the first bad entry.",
)
@click.option("--head", "head_text", default=None, help="SEQ:HASH, as the metric and the periodic log line give it")
def verify_audit(head_text: str | None) -> None:
    try:
        head = ChainHead.parse(head_text) if head_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--head") from None
    result = _services().audit.verify(head)
    _print(
        {
            "ok": result.ok,
            "checked": result.checked,
            "head": str(result.head),
            "first_bad": result.first_bad,
            "problem": result.problem or None,
        }
    )
    if not result.ok:
        raise SystemExit(1)


@audit_cli.command("head", help="The chain's head now (SEQ:HASH): keep it somewhere the database cannot reach.")
def audit_head() -> None:
    _print({"head": str(_services().audit.head())})


@accounts_cli.command(
    "set-rate-limit",
    help="Override the account's request rate (requests per second; bursts "
    "of twice that pass), or go back to the default with --default.",
)
@click.argument("account_id")
@click.option("--per-second", type=int, default=None, help="requests per second")
@click.option("--default", "use_default", is_flag=True, help="the documented default (100/s)")
def set_rate_limit(account_id: str, per_second: int | None, use_default: bool) -> None:
    if (per_second is not None) == use_default:  # neither, or both
        raise click.UsageError("give either --per-second N or --default")
    _print(presenters.account(_services().accounts.set_rate_limit(account_id, per_second)))


@click.group("idempotency", help="Idempotency keys.", cls=_Group)
def idempotency_cli() -> None:
    _logs_to_stderr()


@idempotency_cli.command(
    "purge", help="Delete the keys older than GATEWAY_IDEMPOTENCY_TTL_HOURS (the results consumer also does it hourly)."
)
def purge_keys() -> None:
    _print({"purged": _services().purge_expired_keys()})


@click.group(help="The payment gateway's merchant API: operator commands.")
def main() -> None:
    configure_logging("gateway_api", "WARNING")
    _logs_to_stderr()


main.add_command(migrate_cli)
main.add_command(accounts_cli)
main.add_command(idempotency_cli)
main.add_command(operators_cli)
main.add_command(audit_cli)
