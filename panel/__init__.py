"""The live transactions panel: a Flask app fed by its own consumer of ``transactions_result``."""
from panel.app import create_app

__all__ = ["create_app"]
