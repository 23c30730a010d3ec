"""Operator commands, available two ways:

    python -m gateway_api migrate
    python -m gateway_api accounts create --name Shop      # prints {"id", "name", "secret"} as JSON
    python -m gateway_api accounts set-rate-limit ACCOUNT_ID --per-second 500   # or --default
    python -m gateway_api idempotency purge                # prints {"purged": N}
    flask --app gateway_api accounts create --name Shop

Only the command's result goes to stdout (one JSON line); logs go to stderr. A missing or weak
setting is one line on stderr naming the variable, and exit code 2. Under `make run`:

    set -a; . var/gateway.env; set +a        # the running API's settings (pepper, database, ...)
"""
from __future__ import annotations

import json
import logging
import sys

import click
from flask import current_app, has_app_context

from infra.db import migrate
from infra.logs import configure_logging
from infra.settings import from_env_or_exit

from gateway_api.domain.errors import GatewayError
from gateway_api.migrations import SCRIPT_LOCATION
from gateway_api.settings import MigrationSettings
from gateway_api.web import presenters


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


@accounts_cli.command("create", help="Create a merchant account; prints its id, name and secret (shown once).")
@click.option("--name", required=True)
def create_account(name: str) -> None:
    _print(presenters.issued_secret(_services().accounts.create(name)))


@accounts_cli.command("rotate-secret", help="Issue a new secret for an account; the old one stops working.")
@click.argument("account_id")
def rotate_secret(account_id: str) -> None:
    _print(presenters.issued_secret(_services().accounts.rotate_secret(account_id)))


@accounts_cli.command("disable", help="Disable an account: its secret stops working.")
@click.argument("account_id")
def disable_account(account_id: str) -> None:
    _print(presenters.account(_services().accounts.disable(account_id)))


@accounts_cli.command("set-rate-limit", help="Override the account's request rate (requests per second; bursts "
                                             "of twice that pass), or go back to the default with --default.")
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


@idempotency_cli.command("purge", help="Delete the keys older than GATEWAY_IDEMPOTENCY_TTL_HOURS (the results "
                                       "consumer also does it hourly).")
def purge_keys() -> None:
    _print({"purged": _services().purge_expired_keys()})


@click.group(help="The payment gateway's merchant API: operator commands.")
def main() -> None:
    configure_logging("gateway_api", "WARNING")
    _logs_to_stderr()


main.add_command(migrate_cli)
main.add_command(accounts_cli)
main.add_command(idempotency_cli)
