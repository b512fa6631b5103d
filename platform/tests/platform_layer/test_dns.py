"""platform_layer.dns: name lookups with a deadline."""

import socket
import threading

import pytest

from platform_layer import dns


def test_a_lookup_that_hangs_gives_up_at_the_deadline(monkeypatch):
    """A stopped container's name is gone from Docker's DNS, and the host's resolvers
    may never answer for it: the caller stops waiting at its deadline."""
    released = threading.Event()

    def hanging_lookup(*args: object, **kwargs: object) -> list:
        released.wait(60)  # a resolver retrying for a long time
        raise socket.gaierror("the resolver gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    try:
        with pytest.raises(TimeoutError, match="took over 0.3s"):
            dns.resolve("no-such-service", 6379, timeout=0.3)
    finally:
        released.set()


def test_a_name_no_one_has_is_an_error():
    with pytest.raises(OSError):
        dns.resolve("no-such-service", 6379, timeout=5)
