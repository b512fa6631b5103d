"""Failure is boring for clients: under a bounded Locust run in the background, a
web node, a platform node or the database replica is killed, a platform node
paused, the cache stopped, or the web tier restarted one node at a time, and no
request fails. A platform node is killed twice: behind HAProxy, and with the web
nodes as smart clients. The figures (requests, failures, seconds until a node is
marked down and until it is back) are printed for the benchmark report."""

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from stack import compose, compose_command, haproxy_rows, haproxy_status, healthy, wait_for

WEB_NODES = ("web1", "web2", "web3")


def frontend_requests(stats: str) -> int:
    """Requests the edge has received so far (its frontend's counter on the stats page)."""
    for row in haproxy_rows(requests.get(f"{stats}/;csv", timeout=5).text):
        if row["pxname"] == "www" and row["svname"] == "FRONTEND":
            return int(row["req_tot"] or 0)
    raise AssertionError("no www frontend on the stats page")


@contextmanager
def background_load(stats: str, seconds: int, users: int = 20) -> Iterator[dict]:
    """A headless Locust run against the edge, bounded in users and time, in the
    background. Yields once the load is flowing; after the block, the dict holds the
    run's totals: requests, failures, and Locust's report of them."""
    before = frontend_requests(stats)
    run = compose_command(
        "--profile", "loadtest", "run", "--rm", "--no-deps", "-T", "locust",
        "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s",
        "--host", "http://edge-lb:8080", "--json", "--only-summary",
    )  # fmt: skip
    process = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    totals: dict = {}
    try:
        wait_for(lambda: frontend_requests(stats) > before + 50, timeout=120, what="Locust's load to flow")
        yield totals
    finally:
        out, err = process.communicate(timeout=seconds + 180)
    assert process.returncode in (0, 1), f"Locust did not run: {err[-2000:]}"  # 1: it saw failures
    # Locust's own table of what failed and how, shown when a test asserts no failure.
    endpoints = json.loads(out)
    totals["requests"] = sum(endpoint["num_requests"] for endpoint in endpoints)
    totals["failures"] = sum(endpoint["num_failures"] for endpoint in endpoints)
    totals["report"] = err[err.rfind("Error report") :] if "Error report" in err else err[-3000:]


def test_killing_a_web_node_under_load_fails_no_request(stats):
    with background_load(stats, seconds=45) as load:
        killed = time.monotonic()
        compose("kill", "web2")
        wait_for(
            lambda: haproxy_status(stats, "web")["web2"].startswith("DOWN"),
            timeout=30,
            interval=0.1,
            what="the edge to mark web2 down",
        )
        down_after = time.monotonic() - killed
        started = time.monotonic()
        compose("start", "web2")
        wait_for(
            lambda: haproxy_status(stats, "web")["web2"] == "UP", timeout=90, what="web2 back in rotation"
        )
        back_after = time.monotonic() - started
    print(
        f"\nkill web2 under load: {load['requests']} requests, {load['failures']} failed; "
        f"marked down after {down_after:.1f}s, back {back_after:.1f}s after its start"
    )
    assert load["failures"] == 0, load["report"]


def pool(balancer: str, backend: str) -> dict[str, str]:
    """Server -> status of a backend of an internal balancer (platform-lb, db-lb),
    from its stats page, which is not published on the host."""
    fetch = 'exec 3<>/dev/tcp/127.0.0.1/8404; printf "GET /;csv HTTP/1.0\\r\\n\\r\\n" >&3; cat <&3'
    # (text mode has turned the HTTP header's CRLFs into plain newlines)
    csv = compose("exec", "-T", balancer, "bash", "-c", fetch).stdout.split("\n\n", 1)[-1]
    return {row["svname"]: row["status"] for row in haproxy_rows(csv) if row["pxname"] == backend}


def platform_pool() -> dict[str, str]:
    return pool("platform-lb", "platform_pool")


@pytest.mark.parametrize(("break_it", "mend_it"), [("kill", "start"), ("pause", "unpause")])
def test_killing_or_freezing_a_platform_node_under_load_fails_no_request(stats, break_it, mend_it):
    """Killed, its connections drop; paused, it answers nothing and a GET waiting on it
    is retried on the other node when platform-lb's server timeout (4 s) expires."""
    with background_load(stats, seconds=45) as load:
        broken = time.monotonic()
        compose(break_it, "platform1")
        wait_for(
            lambda: platform_pool()["platform1"].startswith("DOWN"), timeout=30, what="platform1 marked down"
        )
        down_after = time.monotonic() - broken
        mended = time.monotonic()
        compose(mend_it, "platform1")
        wait_for(lambda: platform_pool()["platform1"] == "UP", timeout=120, what="platform1 back in the pool")
        back_after = time.monotonic() - mended
    print(
        f"\n{break_it} platform1 under load: {load['requests']} requests, {load['failures']} failed; "
        f"marked down after {down_after:.1f}s, back {back_after:.1f}s after `{mend_it}`"
    )
    assert load["failures"] == 0, load["report"]


def test_a_rolling_restart_of_the_web_tier_under_load_fails_no_request(stats):
    """One node at a time, as `make rolling-restart` does: gunicorn drains its
    in-flight requests on SIGTERM, and the edge sends new ones to the others."""
    with background_load(stats, seconds=60) as load:
        for node in WEB_NODES:
            compose("restart", node)
            wait_for(lambda node=node: healthy(node), timeout=120, what=f"{node} healthy again")
            wait_for(
                lambda node=node: haproxy_status(stats, "web")[node] == "UP",
                timeout=60,
                what=f"{node} in rotation",
            )
    print(f"\nrolling restart under load: {load['requests']} requests, {load['failures']} failed")
    assert load["failures"] == 0, load["report"]


def cached_keys() -> int:
    return int(compose("exec", "-T", "redis", "redis-cli", "dbsize").stdout.strip())


def test_stopping_the_cache_under_load_fails_no_request(stats, edge):
    """The cache is optional: with Redis gone, pages come from Postgres (a dead cache
    costs each worker one short timeout, then is skipped for a moment); once back,
    it refills as pages are read."""

    def redis_ok() -> bool:
        return requests.get(f"{edge}/status.json", timeout=15).json()["dependencies"]["redis"]["ok"]

    with background_load(stats, seconds=45) as load:
        try:
            compose("stop", "redis")
            wait_for(lambda: not redis_ok(), timeout=30, what="the platform to see the cache down")
        finally:
            compose("start", "redis")
        wait_for(redis_ok, timeout=60, what="the cache back")
        # It comes back empty (memory only), and the pages read under load refill it.
        refilled = wait_for(cached_keys, timeout=30, what="the cache refilling")
    print(
        f"\nstop Redis under load: {load['requests']} requests, {load['failures']} failed; "
        f"{refilled} keys cached again after its return"
    )
    assert load["failures"] == 0, load["report"]


def test_killing_the_replica_under_load_fails_no_request(stats):
    """Reads move to the primary (the read pool's backup), then back to the replica."""

    def replica() -> str:
        return pool("db-lb", "read_pool")["replica"]

    with background_load(stats, seconds=45) as load:
        killed = time.monotonic()
        compose("kill", "postgres-replica")
        wait_for(lambda: replica().startswith("DOWN"), timeout=30, what="the replica out of the read pool")
        down_after = time.monotonic() - killed
        started = time.monotonic()
        compose("start", "postgres-replica")
        wait_for(lambda: replica() == "UP", timeout=120, what="the replica back in the read pool")
        back_after = time.monotonic() - started
    print(
        f"\nkill the replica under load: {load['requests']} requests, {load['failures']} failed; "
        f"out of the read pool after {down_after:.1f}s, back {back_after:.1f}s after its start"
    )
    assert load["failures"] == 0, load["report"]


@contextmanager
def web_tier_as(client: str, stats: str) -> Iterator[None]:
    """The web nodes recreated with PLATFORM_CLIENT=client; as configured again after."""

    def recreate(env: dict[str, str]) -> None:
        compose("up", "--detach", "--no-deps", "--wait", *WEB_NODES, env=env)
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
        with background_load(stats, seconds=45) as load:
            killed = time.monotonic()
            compose("kill", "platform1")
            wait_for(
                lambda: seen_by_a_web_worker()["breaker"] == "open", timeout=30, interval=0.2,
                what="a web worker to skip platform1",
            )  # fmt: skip
            skipped_after = time.monotonic() - killed
            started = time.monotonic()
            compose("start", "platform1")
            wait_for(
                lambda: seen_by_a_web_worker()["answered_by"] == "platform1", timeout=120,
                what="calls to reach platform1 again",
            )  # fmt: skip
            back_after = time.monotonic() - started
    print(
        f"\nkill platform1 under load, smart clients: {load['requests']} requests, "
        f"{load['failures']} failed; a web worker skipped it after {skipped_after:.1f}s, "
        f"calls reached it {back_after:.1f}s after its start"
    )
    assert load["failures"] == 0, load["report"]
