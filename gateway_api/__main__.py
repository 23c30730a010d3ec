"""``python -m gateway_api ...``: the operator commands of ``gateway_api.cli``, on services built from
the environment only when a command needs them (``migrate`` reads nothing but its database)."""

from infra.runtime.settings import from_env_or_exit

from gateway_api.bootstrap import build_services
from gateway_api.cli import CLI_HINT, main
from gateway_api.settings import Settings

main(prog_name="python -m gateway_api", obj=lambda: build_services(from_env_or_exit(Settings, hint=CLI_HINT)))
