"""news.api.stories: lists of stories and posting, through HTTP."""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from news import stories, timelines
from news.cache import cache
from platform_layer import db
from platform_layer.db import PRIMARY, REPLICA
from tests.support import acting, follow, member

pytestmark = pytest.mark.django_db


def test_stories_are_listed_newest_first_with_their_author(api, five_stories):
    response = api.get("/api/v1/stories", {"limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert [item["title"] for item in body["items"]] == ["Story 0", "Story 1", "Story 2"]
    author = body["items"][0]["author"]
    assert (author["id"], author["username"], author["name"]) == (five_stories[0].author_id, "ada", "Ada")
    assert body["has_more"] is True


def test_the_last_page_says_there_is_no_more(api, five_stories):
    body = api.get("/api/v1/stories", {"limit": 3, "offset": 3}).json()
    assert [item["title"] for item in body["items"]] == ["Story 3", "Story 4"]
    assert body["has_more"] is False


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"offset": -1}])
def test_bad_paging_is_a_400_with_reasons(api, query):
    response = api.get("/api/v1/stories", query)
    assert response.status_code == 400
    assert response.json()["errors"], "the caller is told what is wrong"


def test_a_closed_members_assertion_is_a_401_not_a_500(api):
    ghost = member("ghost")
    as_ghost = acting(ghost.pk)
    ghost.delete()
    response = api.post(
        "/api/v1/stories",
        {"title": "Ghost", "url": "https://example.com"},
        content_type="application/json",
        **as_ghost,
    )
    assert response.status_code == 401
    assert "log in again" in response.json()["detail"]


def test_the_fanout_endpoint_reports_progress(api, author):
    follow(member("reader"), author)
    story = stories.create_story(author.pk, "Progress", "https://example.com/p", "")
    running = api.get(f"/api/v1/stories/{story['id']}/fanout").json()
    assert running == {"delivered": 0, "followers": 1, "finished_at": None}
    timelines.fan_out(story["id"])
    finished = api.get(f"/api/v1/stories/{story['id']}/fanout").json()
    assert (finished["delivered"], finished["followers"]) == (1, 1)
    assert finished["finished_at"]
    assert api.get("/api/v1/stories/999999999/fanout").status_code == 404


def test_a_search_goes_ten_pages_deep(api, five_stories):
    at_the_bound = api.get("/api/v1/search", {"q": "story", "offset": stories.SEARCH_MAX_OFFSET})
    assert at_the_bound.status_code == 200
    beyond = api.get("/api/v1/search", {"q": "story", "offset": stories.SEARCH_MAX_OFFSET + 1})
    assert beyond.status_code == 400
    assert beyond.json()["errors"] == [
        {"field": "offset", "message": f"Input should be less than or equal to {stories.SEARCH_MAX_OFFSET}"}
    ]


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])  # no test transaction around it
def test_a_search_is_read_from_the_read_pool_outside_any_transaction(api, five_stories, monkeypatch):
    """Only the stampede lock is taken on the primary; the ranking runs on the replica."""
    in_a_transaction = []
    cached_ids = stories.cached_ids

    def watched(cache_name, key, fresh, compute):
        def recorded():
            in_a_transaction.append(connections[PRIMARY].in_atomic_block)
            return compute()

        return cached_ids(cache_name, key, fresh, recorded)

    monkeypatch.setattr(stories, "cached_ids", watched)
    assert searched_on(api, "story")[1] == {REPLICA}
    assert in_a_transaction == [False]


def searched_on(api, q: str) -> tuple[list[int], set[str]]:
    """A search's results, and the databases its ranking query ran on."""
    with (
        CaptureQueriesContext(connections[PRIMARY]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = api.get("/api/v1/search", {"q": q})
    assert response.status_code == 200
    ranked = {
        alias
        for alias, queries in ((PRIMARY, primary), (REPLICA, replica))
        if any("websearch_to_tsquery" in query["sql"] for query in queries)
    }
    return [item["id"] for item in response.json()["items"]], ranked


@pytest.mark.django_db(transaction=True, databases=["default", "replica"])  # no test transaction around it
def test_a_search_reads_the_primary_until_the_replica_has_the_latest_story(api, author, monkeypatch):
    """The search generation is the WAL position after the latest story write: a
    replica that has not replayed it would cache a search without that story."""
    posted = api.post(
        "/api/v1/stories",
        {"title": "Zanzibar at dawn", "url": "https://example.com/z"},
        content_type="application/json",
        **acting(author.pk),
    )
    assert posted.status_code == 201
    generation = db.parse_lsn(cache.generation("search"))
    assert generation is not None and generation <= db.parse_lsn(posted.headers[db.WRITTEN_HEADER])

    monkeypatch.setattr(db, "read_pool", db._Cooldown(db.COOLDOWN_SECONDS))
    monkeypatch.setattr(db, "has_replayed", lambda position: position < generation)
    assert searched_on(api, "zanzibar") == ([posted.json()["id"]], {PRIMARY})
    monkeypatch.setattr(db, "has_replayed", lambda position: position <= generation)
    assert searched_on(api, "dawn")[1] == {REPLICA}
