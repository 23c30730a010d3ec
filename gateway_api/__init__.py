"""The merchant-facing API of the payment gateway, its ledger, its results consumer and its webhook dispatcher.

Importing this package connects to nothing and imports neither Flask nor prometheus_client, so the
gunicorn config (``gateway_api.gunicorn_conf``) can set PROMETHEUS_MULTIPROC_DIR before the first
metric exists.
"""


def create_app(settings=None):
    """The Flask application (see :func:`gateway_api.bootstrap.create_app`)."""
    from gateway_api.bootstrap import create_app as _create_app

    return _create_app(settings)
