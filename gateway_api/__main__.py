from gateway_api.cli import main

main(prog_name="python -m gateway_api")
