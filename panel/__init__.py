"""The live transactions panel: a Flask app fed by its own reader of ``transactions_result``."""


def create_app(settings=None):
    """See :func:`panel.bootstrap.create_app`. Imported lazily: ``panel.gunicorn_conf`` must run before
    prometheus_client is imported, so that it can set PROMETHEUS_MULTIPROC_DIR first."""
    from panel.bootstrap import create_app as build

    return build(settings)


__all__ = ["create_app"]
