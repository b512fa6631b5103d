"""Failure is boring for clients: under a headless Locust run in the background (load.py),
a web node or a platform node is killed, paused or stopped, the cache stopped, or the
web tier restarted one node at a time, and no request fails (the database's members:
test_database_failover.py). A platform node is killed twice: behind HAProxy, and with the web
nodes as smart clients. The load runs until the broken part is back (and a few
seconds more), so it covers the recovery too. The figures (requests, failures,
seconds until a node is marked down and until it is back) are printed for the
benchmark report."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import requests

from load import assert_nothing_failed_or_lost, background_load, pool
from stack import broken, compose, haproxy_status, make, redis_cli, wait_for

pytestmark = pytest.mark.usefixtures("load_accounts_closed")

WEB_NODES = ("web1", "web2", "web3")


@dataclass(frozen=True)
class Drill:
    """Break `service` as `how` says, under load; `status` reads it as its balancer sees it."""

    service: str
    how: str
    status: Callable[[str], str]
    where: str  # the balancer and pool, for the report


DRILLS = [
    Drill("web2", "kill", lambda stats: haproxy_status(stats, "web")["web2"], "the edge"),
    # Paused, a node accepts connections and answers nothing: a GET waiting on it is
    # retried on another node when its balancer's server timeout expires (8 s at the
    # edge, 4 s in the platform pool).
    Drill("web2", "pause", lambda stats: haproxy_status(stats, "web")["web2"], "the edge"),
    Drill("platform1", "kill", lambda _: pool("platform-lb", "platform_pool")["platform1"], "platform-lb"),
    Drill("platform1", "pause", lambda _: pool("platform-lb", "platform_pool")["platform1"], "platform-lb"),
    # Stopped gracefully: gunicorn finishes its requests in flight, then exits.
    Drill("platform1", "stop", lambda _: pool("platform-lb", "platform_pool")["platform1"], "platform-lb"),
]


@pytest.mark.parametrize("drill", DRILLS, ids=lambda drill: f"{drill.how}-{drill.service}")
def test_a_node_broken_under_load_fails_no_request(stats, drill):
    with background_load(stats) as load, broken(drill.service, drill.how) as breakage:
        wait_for(
            lambda: drill.status(stats).startswith("DOWN"), timeout=30, interval=0.2,
            what=f"{drill.where} to mark {drill.service} down",
        )  # fmt: skip
        down_after = time.monotonic() - breakage.broken_at
        breakage.mend()
        wait_for(
            lambda: drill.status(stats) == "UP", timeout=120, what=f"{drill.service} back in {drill.where}"
        )
        back_after = time.monotonic() - breakage.mended_at
    print(
        f"\n{drill.how} {drill.service} under load: {load['requests']} requests, {load['failures']} failed; "
        f"out of {drill.where} after {down_after:.1f}s, back {back_after:.1f}s after it was mended"
    )
    assert_nothing_failed_or_lost(load)


def test_a_rolling_restart_of_the_web_tier_under_load_fails_no_request(stats):
    """The command users run, `make rolling-restart`: one node at a time, each healthy
    and back in rotation before the next. gunicorn drains its in-flight requests on
    SIGTERM, and the edge sends new ones to the others."""
    with background_load(stats) as load:
        restart = make("rolling-restart", check=False, timeout=600)
        assert restart.returncode == 0, restart.stdout + restart.stderr
        for node in WEB_NODES:
            assert f"{node} is healthy and back in rotation" in restart.stdout
        assert set(haproxy_status(stats, "web").values()) == {"UP"}
    print(f"\nrolling restart under load: {load['requests']} requests, {load['failures']} failed")
    assert_nothing_failed_or_lost(load)


def cached_keys() -> int:
    return int(redis_cli("redis", "dbsize").strip())


def test_stopping_the_cache_under_load_fails_no_request(stats, edge):
    """The cache is optional: with Redis gone, pages come from Postgres (a dead cache
    costs each worker one short timeout, then is skipped for a moment); once back,
    it refills as pages are read."""

    def redis_ok() -> bool:
        return requests.get(f"{edge}/status.json", timeout=15).json()["dependencies"]["redis"]["ok"]

    with background_load(stats) as load:
        with broken("redis", "stop"):
            wait_for(lambda: not redis_ok(), timeout=30, what="the platform to see the cache down")
        wait_for(redis_ok, timeout=60, what="the cache back")
        # It comes back empty (memory only), and the pages read under load refill it.
        refilled = wait_for(cached_keys, timeout=30, what="the cache refilling")
    print(
        f"\nstop Redis under load: {load['requests']} requests, {load['failures']} failed; "
        f"{refilled} keys cached again after its return"
    )
    assert_nothing_failed_or_lost(load)


@contextmanager
def web_tier_as(client: str, stats: str) -> Iterator[None]:
    """The web nodes recreated with PLATFORM_CLIENT=client; as configured again after."""

    def recreate(env: dict[str, str]) -> None:
        compose("up", "--no-build", "--detach", "--no-deps", "--wait", *WEB_NODES, env=env)
        wait_for(lambda: set(haproxy_status(stats, "web").values()) == {"UP"}, timeout=60, what="web tier up")

    recreate({"PLATFORM_CLIENT": client})
    try:
        yield
    finally:
        recreate({})


def test_killing_a_platform_node_under_load_with_smart_clients_fails_no_request(stats, edge):
    """No platform-lb between the tiers: each web worker skips the dead node once it
    failed twice there (a GET that failed is tried on the other node), and tries it
    again by itself after two seconds."""

    def seen_by_a_web_worker() -> dict:
        status = requests.get(f"{edge}/status.json", timeout=15).json()
        breakers = {node["node"]: node["breaker"] for node in status["platform_client"]["nodes"]}
        return {"breaker": breakers["platform1"], "answered_by": status["platform_node"]}

    with web_tier_as("smart", stats):
        assert requests.get(f"{edge}/status.json", timeout=15).json()["platform_client"]["mode"] == "smart"
        with background_load(stats) as load, broken("platform1", "kill") as breakage:
            wait_for(
                lambda: seen_by_a_web_worker()["breaker"] == "open", timeout=30, interval=0.2,
                what="a web worker to skip platform1",
            )  # fmt: skip
            skipped_after = time.monotonic() - breakage.broken_at
            breakage.mend()
            wait_for(
                lambda: seen_by_a_web_worker()["answered_by"] == "platform1", timeout=120,
                what="calls to reach platform1 again",
            )  # fmt: skip
            back_after = time.monotonic() - breakage.mended_at
    print(
        f"\nkill platform1 under load, smart clients: {load['requests']} requests, "
        f"{load['failures']} failed; a web worker skipped it after {skipped_after:.1f}s, "
        f"calls reached it {back_after:.1f}s after its start"
    )
    assert_nothing_failed_or_lost(load)
