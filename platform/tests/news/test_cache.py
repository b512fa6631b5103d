"""news.cache: the cache itself, against the stack's real Redis (and Postgres, for the
stampede locks)."""

import threading
import time

import pytest
from django.db import connection

from news import cache as news_cache
from news import members, stories
from news.cache import Cache, cache, cached_ids
from tests.support import cached, silent_server

pytestmark = pytest.mark.django_db


def test_an_older_version_never_replaces_a_newer_one(ada):
    key = f"user.{ada.pk}"
    cache.set_if_newer(key, {**ada.as_dict(), "name": "v5", "version": 5}, 60)
    cache.set_if_newer(key, {**ada.as_dict(), "name": "v4", "version": 4}, 60)
    assert cached(key)["name"] == "v5"
    cache.set_if_newer(key, {**ada.as_dict(), "name": "v6", "version": 6}, 60)
    assert cached(key)["name"] == "v6"


@pytest.mark.django_db(transaction=True)
def test_a_hot_key_is_recomputed_by_one_request_while_the_others_wait():
    computed: list[int] = []
    results: list[list[int]] = []

    def compute() -> list[int]:
        computed.append(1)
        time.sleep(0.3)  # a slow query
        return [1, 2, 3]

    def read() -> None:
        try:
            results.append(cached_ids("test", "stampede.key", 10, compute))
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert results == [[1, 2, 3]] * 12


@pytest.mark.django_db(transaction=True)
def test_a_stale_hot_key_is_served_while_one_request_refreshes_it():
    cache.set("stale.key", {"ids": [1], "fresh_until": time.time() - 1}, 60)
    computed: list[int] = []
    results: list[list[int]] = []
    release = threading.Event()

    def compute() -> list[int]:
        computed.append(1)
        release.wait(10)  # the refresh lasts until every other reader has been answered
        return [2]

    def read() -> None:
        try:
            results.append(cached_ids("test", "stale.key", 10, compute))
        finally:
            connection.close()

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(results) < 7 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert results == [[1]] * 7, "the others got the stale value at once"
    release.set()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert results[-1] == [2]
    assert cached_ids("test", "stale.key", 10, compute) == [2], "now fresh"


def test_the_site_works_from_postgres_when_the_cache_is_down(ada, monkeypatch):
    """A cache that accepts connections and never answers (a paused Redis) is tried
    once, costs that one request its short timeout, and is then skipped for two
    seconds; then it is tried once again."""
    with silent_server() as (port, attempts):
        dead = Cache(f"redis://127.0.0.1:{port}/0", timeout=0.25)
        for name in ("client", "_get_and_count", "_get_many_and_count", "_set_if_newer"):
            monkeypatch.setattr(cache, name, getattr(dead, name))
        monkeypatch.setattr(cache, "_skip_until", 0.0)
        errors_before = cache.errors
        for _ in range(50):
            assert members.get_user(ada.pk)["name"] == "Ada"
        assert stories.newest(5, 0) == ([], False)
        assert attempts() == 1, "after one error the cache is skipped for a while"
        assert cache.cooldown == 2.0, "for two seconds (README)"
        monkeypatch.setattr(cache, "_skip_until", 0.0)  # two seconds later
        assert members.get_user(ada.pk)["name"] == "Ada"
        assert attempts() == 2, "then it is tried again, once"
    assert cache.errors == errors_before + 2


def test_a_cache_whose_host_vanished_is_a_miss_looked_up_with_the_connect_deadline(monkeypatch):
    lookups: list[tuple[str, float]] = []

    def resolve(host: str, port: int, timeout: float) -> list[tuple]:
        lookups.append((host, timeout))
        raise TimeoutError(f"looking up {host!r} took over {timeout}s")

    monkeypatch.setattr(news_cache, "resolve", resolve)
    vanished = Cache("redis://no-such-service:6379/0", timeout=0.25)
    assert vanished.get("user", "user.1") is None
    assert vanished.get("user", "user.2") is None, "skipped: no second lookup"
    assert lookups == [("no-such-service", 0.25)]
    assert vanished.errors == 1


def test_hits_and_misses_are_counted_per_cache(ada):
    members.get_user(ada.pk)
    members.get_user(ada.pk)
    members.get_users([ada.pk])
    assert cache.stats()["user"] == {"hits": 2, "misses": 1}


def test_the_cache_redis_evicts_least_recently_used_keys():
    memory = cache.client.info("memory")
    assert memory["maxmemory_policy"] == "allkeys-lru"
    assert int(memory["maxmemory"]) > 0


def test_a_switched_off_cache_is_never_asked_or_filled(ada, monkeypatch):
    """CACHE_ENABLED=off (make bench's "no cache" run): reads come from Postgres, and
    the cache Redis sees no request at all, not even to count a miss."""
    with silent_server() as (port, attempts):
        off = Cache(f"redis://127.0.0.1:{port}/0", timeout=0.25, enabled=False)
        for name in ("enabled", "client", "_get_and_count", "_get_many_and_count", "_set_if_newer"):
            monkeypatch.setattr(cache, name, getattr(off, name))
        assert members.get_user(ada.pk)["name"] == "Ada"
        assert members.get_users([ada.pk])[ada.pk]["name"] == "Ada"
        assert stories.newest(5, 0) == ([], False)
        assert cache.report()["enabled"] is False
        assert attempts() == 0
