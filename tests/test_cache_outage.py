"""The cache is optional: with Redis stopped, pages come from Postgres; when it is
back, the cache fills again."""

import time

import requests

from stack import broken, compose, healthy, redis_cli, wait_for

PAGES = ("/", "/newest", "/u/user1", "/search?q=redis", "/api/users/user2")


def test_pages_keep_answering_without_the_cache_and_it_refills_after(edge):
    with broken("redis", "stop"):
        started = time.monotonic()
        for _ in range(3):
            for page in PAGES:
                response = requests.get(f"{edge}{page}", timeout=10)
                assert response.status_code == 200, (
                    f"{page} answered {response.status_code} without the cache"
                )
        print(f"\n{3 * len(PAGES)} pages without the cache in {time.monotonic() - started:.1f}s")
        wait_for(  # (the status is at most a second old on each tier)
            lambda: requests.get(f"{edge}/status.json", timeout=10).json()["dependencies"]["redis"]["ok"]
            is False,
            timeout=10,
            what="the outage visible on /status",
        )
    wait_for(
        lambda: requests.get(f"{edge}/status.json", timeout=10).json()["dependencies"]["redis"]["ok"],
        timeout=60,
        what="Redis back on /status",
    )

    def refilled() -> bool:
        requests.get(f"{edge}/api/users/user3", timeout=10)
        caches = requests.get(f"{edge}/status.json", timeout=10).json()["caches"]["caches"]
        return caches.get("user", {}).get("hits", 0) > 0

    wait_for(refilled, timeout=30, what="the emptied cache to serve hits again")


def test_the_cache_keeps_nothing_on_disk():
    """A cache is rebuilt from Postgres, never restored: restarted, Redis is empty."""

    def redis(*args: str) -> list[str]:
        return redis_cli("redis", *args).splitlines()

    persistence = dict(line.split(":", 1) for line in redis("INFO", "persistence") if ":" in line)
    assert persistence["aof_enabled"] == "0", "no append-only file"
    redis("SET", "restart.probe", "1")
    compose("restart", "redis")
    wait_for(lambda: healthy("redis"), timeout=60, what="Redis back")
    assert redis("EXISTS", "restart.probe") == ["0"]
