"""platform_layer.dns: name lookups with a deadline."""

import time

import pytest

from platform_layer import dns


def test_a_vanished_host_costs_the_deadline_not_the_resolvers_retries():
    # A stopped container's name is gone from Docker's DNS: depending on the engine
    # and the host's resolvers, the lookup fails at once or hangs for seconds.
    started = time.perf_counter()
    with pytest.raises(OSError):
        dns.resolve("no-such-service", 6379, timeout=0.3)
    assert time.perf_counter() - started < 2
