"""The caching of the article, against the stack's real Redis and Postgres."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from news import services
from news.cache import Cache, cache
from news.models import Story, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada() -> User:
    return User.objects.create(username="ada", name="Ada")


def cached(key: str) -> dict | None:
    raw = cache.client.get(key)
    return None if raw is None else json.loads(raw)


def test_read_through_fills_on_a_miss_and_then_skips_postgres(ada, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = services.get_user(ada.pk)
    assert cached(f"user.{ada.pk}") == first
    with django_assert_num_queries(0):
        assert services.get_user(ada.pk) == first


def test_write_through_puts_the_committed_value_in_the_cache(ada, django_capture_on_commit_callbacks):
    services.get_user(ada.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_profile(ada.pk, name="Ada Lovelace", bio="Analyst")
    record = cached(f"user.{ada.pk}")
    assert (record["name"], record["bio"], record["version"]) == ("Ada Lovelace", "Analyst", 2)


def test_nothing_reaches_the_cache_before_the_transaction_commits(ada, django_capture_on_commit_callbacks):
    services.get_user(ada.pk)
    with django_capture_on_commit_callbacks(execute=False):
        services.update_profile(ada.pk, name="Not yet")
    assert cached(f"user.{ada.pk}")["name"] == "Ada"


def test_an_older_version_never_replaces_a_newer_one(ada):
    key = f"user.{ada.pk}"
    cache.set_if_newer(key, {**ada.as_dict(), "name": "v5", "version": 5}, 60)
    cache.set_if_newer(key, {**ada.as_dict(), "name": "v4", "version": 4}, 60)
    assert cached(key)["name"] == "v5"
    cache.set_if_newer(key, {**ada.as_dict(), "name": "v6", "version": 6}, 60)
    assert cached(key)["name"] == "v6"


@pytest.mark.django_db(transaction=True)
def test_racing_writers_leave_the_last_committed_value_cached():
    member = User.objects.create(username="racer", name="start")
    errors: list[Exception] = []

    def write(i: int) -> None:
        try:
            services.update_profile(member.pk, name=f"writer {i}")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    member.refresh_from_db()
    assert member.version == 9
    record = cached(f"user.{member.pk}")
    assert (record["name"], record["version"]) == (member.name, member.version)


def test_a_follow_writes_both_members_through(ada, django_capture_on_commit_callbacks):
    bob = User.objects.create(username="bob")
    with django_capture_on_commit_callbacks(execute=True):
        services.follow(bob.pk, ada.pk)
    assert cached(f"user.{ada.pk}")["followers_count"] == 1
    assert cached(f"user.{bob.pk}")["following_count"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.follow(bob.pk, ada.pk)  # twice is once
        services.unfollow(bob.pk, ada.pk)
    assert cached(f"user.{ada.pk}")["followers_count"] == 0


def test_purging_old_stories_leaves_no_stale_key(ada, django_capture_on_commit_callbacks):
    now = timezone.now()
    old = [
        Story.objects.create(
            author=ada, title=f"old {i}", url="https://example.com", created_at=now - timedelta(days=10)
        )
        for i in range(3)
    ]
    new = Story.objects.create(author=ada, title="new", url="https://example.com")
    ids = [story.pk for story in [*old, new]]
    assert len(services.get_stories(ids)) == 4  # every story now cached
    with django_capture_on_commit_callbacks(execute=True):
        assert services.purge_stories(older_than_days=7) == 3
    assert [story["id"] for story in services.get_stories(ids)] == [new.pk]
    assert all(cached(f"story.{story.pk}")["deleted"] for story in old)
    assert not Story.objects.filter(pk__in=[story.pk for story in old]).exists()


def test_a_reader_cannot_put_a_deleted_story_back(ada, django_capture_on_commit_callbacks):
    story = Story.objects.create(author=ada, title="doomed", url="https://example.com")
    stale_record = services._story_record(story)  # what a slow reader loaded before the delete
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_story(story.pk, ada.pk)
    cache.set_if_newer(f"story.{story.pk}", stale_record, 60)
    assert services.get_stories([story.pk]) == []


def test_search_never_shows_a_deleted_story(ada, django_capture_on_commit_callbacks):
    story = Story.objects.create(author=ada, title="Zanzibar cache ideas", url="https://example.com")
    assert [found["id"] for found in services.search("zanzibar", 10, 0)[0]] == [story.pk]
    assert [found["id"] for found in services.search("zanzibar", 10, 0)[0]] == [story.pk]  # cached
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_story(story.pk, ada.pk)
    assert services.search("zanzibar", 10, 0)[0] == []


def test_an_edit_shows_in_cached_lists_at_once(ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story = services.create_story(ada.pk, "First title", "https://example.com", "")
    assert services.newest(5, 0)[0][0]["title"] == "First title"
    with django_capture_on_commit_callbacks(execute=True):
        services.update_story(story["id"], ada.pk, title="Second title")
    assert services.newest(5, 0)[0][0]["title"] == "Second title"


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
            results.append(services._cached_ids("test", "stampede.key", 10, compute))
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
            results.append(services._cached_ids("test", "stale.key", 10, compute))
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
    assert services._cached_ids("test", "stale.key", 10, compute) == [2], "now fresh"


def test_the_site_works_from_postgres_when_the_cache_is_down(ada, monkeypatch):
    dead = Cache("redis://127.0.0.1:1/0", timeout=0.25)
    for name in ("client", "_get_and_count", "_get_many_and_count", "_set_if_newer"):
        monkeypatch.setattr(cache, name, getattr(dead, name))
    monkeypatch.setattr(cache, "_skip_until", 0.0)
    errors_before = cache.errors
    started = time.perf_counter()
    for _ in range(50):
        assert services.get_user(ada.pk)["name"] == "Ada"
    assert services.newest(5, 0) == ([], False)
    assert time.perf_counter() - started < 2, "a dead cache costs milliseconds, not seconds"
    assert cache.errors == errors_before + 1, "after one error the cache is skipped for a while"


def test_hits_and_misses_are_counted_per_cache(ada):
    services.get_user(ada.pk)
    services.get_user(ada.pk)
    services.get_users([ada.pk])
    assert cache.stats()["user"] == {"hits": 2, "misses": 1}


def test_the_cache_redis_evicts_least_recently_used_keys():
    assert cache.client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    assert int(cache.client.config_get("maxmemory")["maxmemory"]) > 0
