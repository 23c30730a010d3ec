"""The client's address behind a reverse proxy, for the limits kept per client address.

Behind the ingress every request comes from the proxy's address; with ``TRUSTED_PROXY_HOPS=1`` the
address is the one the (single) trusted proxy appended to ``X-Forwarded-For``, its last entry, which
a client cannot forge (entries it sends itself come before it). 0, the default: no proxy is trusted,
the header is ignored.
"""

from __future__ import annotations

from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app, hops: int) -> None:
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)
