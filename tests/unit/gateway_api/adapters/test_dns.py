"""Resolving an endpoint's host never holds a thread longer than the DNS deadline."""

import threading
import time

import pytest

from gateway_api.adapters.dns import SystemResolver


def test_a_name_server_that_never_answers_is_a_lookup_error_within_the_deadline():
    released = threading.Event()

    def hanging(host, port):
        released.wait(10)
        return []

    resolver = SystemResolver(timeout_s=0.2, lookup=hanging)
    started = time.monotonic()
    with pytest.raises(LookupError, match="within 0.2 s"):
        resolver.resolve("slow.example", 443)
    assert time.monotonic() - started < 2
    released.set()


def test_an_answer_within_the_deadline_gives_its_addresses_once_each():
    infos = [(2, 1, 6, "", ("93.184.216.34", 443)), (2, 1, 6, "", ("93.184.216.34", 443))]
    assert SystemResolver(lookup=lambda host, port: infos).resolve("shop.example", 443) == ["93.184.216.34"]
