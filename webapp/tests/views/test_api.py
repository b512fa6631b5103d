"""web.views.api: the public JSON API, public fields only, JSON errors."""

import uuid

import pytest

from tests.conftest import acting
from web.platform_client import platform

USER_FIELDS = {"username", "name", "bio", "followers_count", "following_count", "avatar_url", "date_joined"}
STORY_FIELDS = {"id", "title", "url", "text", "created_at", "author"}


def test_newest_stories(client):
    data = client.get("/api/stories").json()
    assert set(data) == {"page", "has_more", "items"}
    assert data["page"] == 1 and data["has_more"] is True and len(data["items"]) == 20
    story = data["items"][0]
    assert set(story) == STORY_FIELDS and set(story["author"]) == USER_FIELDS
    second = client.get("/api/stories", {"page": 2}).json()
    assert {s["id"] for s in second["items"]}.isdisjoint(s["id"] for s in data["items"])


def test_one_story_and_one_member(client, member):
    story = platform.post_story(acting(member), "API story", "https://example.com/api", "Text.")
    data = client.get(f"/api/stories/{story['id']}").json()
    assert data["title"] == "API story" and data["author"]["username"] == member["username"]
    assert "version" not in data and "version" not in data["author"]

    data = client.get(f"/api/users/{member['username']}").json()
    assert set(data) == USER_FIELDS
    assert data["avatar_url"] is None


def test_a_storys_fan_out_progress(client, member):
    story = platform.post_story(acting(member), "Nobody follows me", "https://example.com/alone", "")
    data = client.get(f"/api/stories/{story['id']}/fanout").json()
    assert (data["delivered"], data["followers"]) == (0, 0)
    assert client.get("/api/stories/999999999/fanout").status_code == 404


def test_search(client, member):
    word = f"zq{uuid.uuid4().hex[:10]}"
    story = platform.post_story(acting(member), f"Api {word}", "https://example.com/q", "")
    assert [s["id"] for s in client.get("/api/search", {"q": word}).json()["items"]] == [story["id"]]


def test_a_search_goes_ten_pages_deep(client, monkeypatch):
    def search(q: str, limit: int, offset: int) -> dict:
        return {"items": [], "limit": limit, "offset": offset, "has_more": True}

    monkeypatch.setattr(platform, "search", search)
    assert client.get("/api/search", {"q": "cache", "page": 9}).json()["has_more"] is True
    assert client.get("/api/search", {"q": "cache", "page": 10}).json()["has_more"] is False
    beyond = client.get("/api/search", {"q": "cache", "page": 11})
    assert beyond.status_code == 400
    assert beyond.json()["error"] == "Too far into a search"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/stories?page=x", 400),
        ("/api/stories?page=0", 400),
        ("/api/search", 400),
        ("/api/search?q=" + "x" * 101, 400),
        ("/api/stories/999999999", 404),
        ("/api/users/nobody_by_this_name", 404),
        ("/api/users/not-a-name", 404),
    ],
)
def test_errors_are_json(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error", "detail"}
