"""The demo product, end to end through the edge: what a member does, and what the
platform's caches make of it."""

import re
import uuid

import requests

from stack import Visitor, psql, redis_cli, wait_for


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_a_click_is_recorded_with_its_referring_domain(edge):
    story_id = int(
        re.search(r'data-story-id="(\d+)"', requests.get(f"{edge}/newest", timeout=10).text).group(1)
    )
    count = f"SELECT count(*) FROM news_click WHERE story_id = {story_id} AND referrer_domain = 'lobste.rs'"
    before = int(psql(count))
    # A reader of their own: a reader's clicks on a story count once per window, and
    # every test clicking as a visitor comes from this machine's one address.
    reader = Visitor(edge).sign_up(unique("reader"))
    response = reader.session.get(
        f"{edge}/s/{story_id}/go",
        headers={"Referer": "https://lobste.rs/t/scaling"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://")
    # The click travels the click stream (RabbitMQ, then a batching consumer) to Postgres.
    wait_for(lambda: int(psql(count)) == before + 1, timeout=30, what="the click stream to store the click")


def test_a_profile_edit_is_visible_everywhere_at_once(edge):
    """Write-through: the new name is in the cache as soon as the edit commits."""
    member = Visitor(edge).sign_up(unique("writer"))
    story_id = member.post_story(f"Written through {uuid.uuid4().hex[:6]}")
    new_name = f"Renamed {uuid.uuid4().hex[:6]}"
    saved = member.submit("/settings/profile", {"name": new_name, "bio": "Edits show at once."})
    assert saved.status_code == 200
    for page in (f"/s/{story_id}", "/newest"):
        assert new_name in requests.get(f"{edge}{page}", timeout=10).text, page


def test_search_finds_a_new_story_and_never_a_deleted_one(edge):
    member = Visitor(edge).sign_up(unique("searcher"))
    word = f"zq{uuid.uuid4().hex[:10]}"
    story_id = member.post_story(f"Searching for {word}")
    assert (
        f'data-story-id="{story_id}"' in requests.get(f"{edge}/search", params={"q": word}, timeout=10).text
    )
    deleted = member.submit(f"/s/{story_id}/delete", {}, form_path=f"/s/{story_id}/delete")
    assert deleted.status_code == 200
    for _ in range(6):  # every node, every cache path
        page = requests.get(f"{edge}/search", params={"q": word}, timeout=10)
        assert page.status_code == 200 and 'data-testid="no-stories"' in page.text, "an empty result"
    assert requests.get(f"{edge}/s/{story_id}", timeout=10).status_code == 404


def test_the_public_json_api_is_a_second_product_on_the_same_platform(edge):
    stories = requests.get(f"{edge}/api/stories", timeout=10).json()
    assert len(stories["items"]) == 20
    assert "version" not in stories["items"][0]
    celebrity = requests.get(f"{edge}/api/users/user1", timeout=10).json()
    assert celebrity["followers_count"] > 5000, "user1 is followed by most demo members"
    assert requests.get(f"{edge}/api/stories/999999999", timeout=10).status_code == 404
    assert requests.get(f"{edge}/api/search", params={"q": "x" * 101}, timeout=10).status_code == 400


def test_the_cache_counts_its_hits_and_misses(edge):
    """Read-through, counted: a member not in the cache is a miss, then hits."""

    def counted() -> dict[str, int]:
        caches = requests.get(f"{edge}/status.json", timeout=10).json()["caches"]["caches"]
        return caches.get("user", {"hits": 0, "misses": 0})

    member_id = psql("SELECT id FROM news_user WHERE username = 'user4242'")
    redis_cli("redis", "DEL", f"user.{member_id}")  # evicted, say
    before = counted()
    for _ in range(3):
        assert requests.get(f"{edge}/api/users/user4242", timeout=10).status_code == 200
    after = wait_for(  # (the status is at most a second old on each tier)
        lambda: sum((now := counted()).values()) >= sum(before.values()) + 3 and now,
        timeout=10,
        what="the three lookups counted on /status",
    )
    assert (after["misses"] - before["misses"], after["hits"] - before["hits"]) == (1, 2)


def test_bad_input_is_refused_with_a_message_never_a_500(edge):
    member = Visitor(edge).sign_up(unique("fuzzy"))
    cases = {
        "javascript: URL": {"title": "x", "url": "javascript:alert(1)", "text": ""},
        "overlong title": {"title": "t" * 201, "url": "https://example.com", "text": ""},
        "NUL in title": {"title": "a\x00b", "url": "https://example.com", "text": ""},
    }
    for case, data in cases.items():
        response = member.submit("/submit", data)
        assert response.status_code in (200, 400), case
        assert 'data-testid="story-page"' not in response.text, f"{case} was accepted"
    assert requests.get(f"{edge}/u/no_such_member_here", timeout=10).status_code == 404
