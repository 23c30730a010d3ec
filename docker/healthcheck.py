#!/usr/bin/env python3
"""Container health probe: exit 0 when one of the given URLs answers 2xx, 1 otherwise.

With no argument it tries the port of every service this image can run (API, panel, processor,
results consumer): one container runs one service, so "one of them answers" means "the
service of this container is up". Standard library only, no settings read.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

DEFAULT_URLS = (
    "http://127.0.0.1:8000/healthz",
    "http://127.0.0.1:8001/healthz",
    "http://127.0.0.1:9101/healthz",  # the workers: 200 while their consumer loop turns
    "http://127.0.0.1:9102/healthz",
)


def answers(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str]) -> int:
    urls = argv or list(DEFAULT_URLS)
    return 0 if any(answers(url) for url in urls) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
