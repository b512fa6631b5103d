"""web.views.stories: the lists of stories, posting, timelines, the click through,
search, editing, and bad input."""

import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import acting, csrf_token, story_ids, wait_for
from web.links import referrer_domain
from web.paging import SEARCH_MAX_PAGE
from web.platform_client import platform


def post(client: Client, **fields: str):
    return client.post("/submit", {"title": "A story", "url": "https://example.com/a", "text": "", **fields})


def test_a_posted_story_shows_on_the_profile_and_on_a_followers_timeline(make_member, login):
    author, follower = make_member(), make_member()
    platform.follow(acting(follower), author["id"])
    client = Client(enforce_csrf_checks=True)
    client.post(
        "/login",
        {
            "username": author["username"],
            "password": "test-password",
            "csrfmiddlewaretoken": csrf_token(client.get("/login").content.decode()),
        },
    )
    page = client.get("/submit").content.decode()
    response = client.post(
        "/submit",
        {
            "title": "Scaling notes",
            "url": "https://example.com/notes",
            "text": "Why caches.",
            "csrfmiddlewaretoken": csrf_token(page),
        },
    )
    assert response.status_code == 302
    story_id = int(response["Location"].rsplit("/", 1)[1])
    assert b"Why caches." in client.get(response["Location"]).content

    assert story_ids(client.get(f"/u/{author['username']}").content.decode()) == [story_id]
    # Followers' timelines are filled by the fan-out consumer, shortly after the post.
    reader = login(follower)

    def delivered() -> str | None:
        home = reader.get("/").content.decode()
        return home if story_ids(home)[:1] == [story_id] else None

    home = wait_for(delivered, what="the fan-out consumer to deliver the story")
    assert story_ids(home)[0] == story_id
    # (The panel's content depends on when the hourly refresh last ran: tested below.)
    assert 'data-testid="suggestions"' in home


def fanout(html: str) -> tuple[int, int] | None:
    """(delivered, followers) from a story page, None when it shows no fan-out."""
    found = re.search(r'data-testid="fanout" data-delivered="(\d+)" data-followers="(\d+)"', html)
    return (int(found.group(1)), int(found.group(2))) if found else None


def test_the_author_sees_the_fan_out_progress_others_do_not(make_member, login, monkeypatch):
    author, follower, other = make_member(), make_member(), make_member()
    platform.follow(acting(follower), author["id"])
    story = platform.post_story(acting(author), "Fan me out", "https://example.com/f", "")
    path = f"/s/{story['id']}"
    client = login(author)

    def done() -> str | None:
        html = client.get(path).content.decode()
        return html if "Delivered:" in html else None

    html = wait_for(done, what="the fan-out to reach the one follower")
    assert fanout(html) == (1, 1)
    assert "Delivered: in 1 of 1 follower's timeline." in html

    called = []
    monkeypatch.setattr(platform, "fanout", lambda story_id: called.append(story_id))
    for reader in (Client(), login(follower), login(other)):
        html = reader.get(path).content.decode()
        assert fanout(html) is None and 'data-testid="story-page"' in html
    assert called == [], "only the author's page asks the platform"


def test_a_story_without_followers_says_so(member, login):
    story = platform.post_story(acting(member), "Alone", "https://example.com/alone", "")
    html = login(member).get(f"/s/{story['id']}").content.decode()
    assert fanout(html) == (0, 0) and "No followers yet" in html


def test_suggestions_say_when_they_were_computed(member, login, monkeypatch):
    items = platform.stories(3, 0)["items"]
    computed = (datetime.now(UTC) - timedelta(minutes=12, seconds=5)).isoformat()
    monkeypatch.setattr(platform, "suggestions", lambda user_id: {"items": items, "computed_at": computed})
    html = login(member).get("/").content.decode()
    assert html.count('data-testid="suggestion"') == 3
    computed_line = r'data-testid="suggestions-computed">Computed off-line <time [^>]+>12\xa0minutes ago<'
    assert re.search(computed_line, html)

    monkeypatch.setattr(platform, "suggestions", lambda user_id: {"items": [], "computed_at": computed})
    html = login(member).get("/").content.decode()
    assert 'data-testid="suggestions-empty">Nothing to suggest this time.<' in html
    assert 'data-testid="suggestions-computed"' in html


def test_people_you_may_know_show_their_mutual_connections_and_a_follow_button(
    make_member, login, monkeypatch
):
    me, bob = make_member(), make_member()
    computed = (datetime.now(UTC) - timedelta(hours=2, seconds=5)).isoformat()
    people = {"items": [{"member": bob, "mutuals": 3}], "computed_at": computed}
    monkeypatch.setattr(platform, "people_you_may_know", lambda user_id: people)
    client = login(me)
    html = client.get("/").content.decode()
    assert f'data-testid="person" data-username="{bob["username"]}" data-mutuals="3"' in html
    assert "3 mutual connections" in html
    assert re.search(
        r'data-testid="people-computed">.*by map-reduce on Spark, <time [^>]+>2\xa0hours ago<', html
    )
    # The button follows, then comes back to the home page.
    form = re.search(
        rf'<form method="post" action="(/u/{bob["username"]}/follow)">.*?name="next" value="([^"]+)"',
        html,
        re.S,
    )
    response = client.post(form.group(1), {"next": form.group(2), "csrfmiddlewaretoken": csrf_token(html)})
    assert response["Location"] == "/"
    assert platform.is_following(acting(me), bob["id"])


def test_people_you_may_know_before_any_run_say_how_to_run_it(member, login, monkeypatch):
    monkeypatch.setattr(platform, "people_you_may_know", lambda user_id: {"items": [], "computed_at": None})
    html = login(member).get("/").content.decode()
    assert (
        'data-testid="people-empty">Computed off-line by map-reduce on Spark; not yet run (make mapreduce).<'
        in html
    )


def test_a_demo_member_has_suggestions_computed_off_line(login):
    """The consumers compute every member's suggestions after the demo world loads, then hourly."""
    user = platform.user_by_username("user3")
    html = login(user, os.environ.get("DEMO_PASSWORD", "demo-password")).get("/").content.decode()
    assert 'data-testid="suggestion"' in html
    assert re.search(r'data-testid="suggestions-computed">Computed off-line <time datetime="[^"]+"', html)


def test_an_empty_timeline_says_so(member, login):
    html = login(member).get("/").content.decode()
    assert story_ids(html) == [] and 'data-testid="no-stories"' in html


def test_visitors_see_the_newest_stories_at_home_and_everyone_on_newest(member, login):
    story = platform.post_story(acting(member), "Newest first", "https://example.com/n", "")
    assert story_ids(Client().get("/").content.decode())[0] == story["id"]
    assert story_ids(login(member).get("/newest").content.decode())[0] == story["id"]


def test_story_links_go_through_the_click_redirect():
    html = Client().get("/newest").content.decode()
    first = story_ids(html)[0]
    assert f'href="/s/{first}/go"' in html


def test_the_click_redirect_records_and_redirects(member, login):
    story = platform.post_story(acting(member), "Click me", "https://example.com/clicked?x=1", "")
    for client in (Client(), login(member)):
        response = client.get(f"/s/{story['id']}/go", HTTP_REFERER="https://News.Example.org:8443/page?q=1")
        assert response.status_code == 302
        assert response["Location"] == "https://example.com/clicked?x=1"
    assert Client().get("/s/999999999/go").status_code == 404


def test_the_click_redirect_names_the_visitor_by_the_address_the_edge_saw(monkeypatch):
    """Every click is sent on; the platform counts a visitor's clicks on a story once per
    window, so each click names its visitor: the same for the same address, whatever
    X-Forwarded-For the client sent itself (web.visitors)."""
    sent: list[dict] = []

    def click(story_id: int, referrer_domain: str, acting, visitor: str = "") -> str:
        sent.append({"acting": acting, "visitor": visitor})
        return "https://example.com/clicked"

    monkeypatch.setattr(platform, "click", click)
    for forwarded in ("203.0.113.7", "198.51.100.1, 203.0.113.7", "198.51.100.2, 203.0.113.7", "203.0.113.8"):
        response = Client().get("/s/1/go", HTTP_X_FORWARDED_FOR=forwarded)
        assert response.status_code == 302 and response["Location"] == "https://example.com/clicked"
    assert [click["acting"] for click in sent] == [None] * 4
    visitors = [click["visitor"] for click in sent]
    assert visitors[0] == visitors[1] == visitors[2] != visitors[3]
    assert all(re.fullmatch(r"[0-9a-f]{32}", visitor) for visitor in visitors)


@pytest.mark.parametrize(
    ("referer", "domain"),
    [
        ("https://News.Example.org:8443/page?q=1", "news.example.org"),
        ("http://localhost:8080/", "localhost"),
        ("http://[::1]:8080/", ""),  # not a host name the click record accepts
        ("http://[broken/", ""),
        ("not a url", ""),
        ("", ""),
        (None, ""),
        ("http://ex_ample.com/", ""),
        ("http://" + "a" * 254 + "/", ""),
        ("http://" + "a" * 253 + "/", "a" * 253),
        ("http://exa\x00mple.com/", ""),
    ],
)
def test_referrer_domain(referer, domain):
    assert referrer_domain(referer) == domain


def test_search_finds_a_just_posted_story_by_a_unique_word(member):
    word = f"zq{uuid.uuid4().hex[:10]}"
    story = platform.post_story(acting(member), f"All about {word}", "https://example.com/s", "")
    html = Client().get("/search", {"q": word}).content.decode()
    assert story_ids(html) == [story["id"]]


def test_search_states(client):
    assert b'data-testid="search-empty-query"' in client.get("/search").content
    html = client.get("/search", {"q": f"nothingmatches{uuid.uuid4().hex}"}).content.decode()
    assert story_ids(html) == [] and "No story title matches" in html


@pytest.mark.parametrize(
    ("params", "message"), [({"q": "x" * 101}, b"at most 100"), ({"q": "a\x00b"}, b"Null")]
)
def test_bad_searches_are_400_pages(client, params, message):
    response = client.get("/search", params)
    assert response.status_code == 400
    assert message in response.content


def test_search_pages_keep_the_query():
    html = Client().get("/search", {"q": "cache"}).content.decode()
    assert 'href="?q=cache&amp;page=2"' in html


def test_a_search_goes_ten_pages_deep_and_says_so_beyond(client, monkeypatch):
    asked = []

    def search(q: str, limit: int, offset: int) -> dict:
        asked.append(offset)
        return {"items": [], "limit": limit, "offset": offset, "has_more": True}

    monkeypatch.setattr(platform, "search", search)
    last = client.get("/search", {"q": "cache", "page": SEARCH_MAX_PAGE}).content.decode()
    assert "page=11" not in last, "no link past the last page"
    beyond = client.get("/search", {"q": "cache", "page": SEARCH_MAX_PAGE + 1})
    assert beyond.status_code == 400
    assert b"A search shows its first 10 pages of results" in beyond.content
    assert asked == [180], "the platform is asked for ten pages at most"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": ""}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.com/file"}, "url"),
        ({"url": "https://exa\x00mple.com/"}, "url"),
        ({"text": "y" * 5001}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"title": "two\nlines"}, "title"),  # refused by the platform, shown on the field
    ],
)
def test_bad_stories_are_form_errors(member, login, fields, field):
    response = post(login(member), **fields)
    assert response.status_code == 200
    assert f'data-testid="field-error-{field}"'.encode() in response.content


def test_the_author_edits_and_deletes_a_story_others_cannot(make_member, login):
    author, other = make_member(), make_member()
    story = platform.post_story(acting(author), "Before", "https://example.com/e", "")
    path = f"/s/{story['id']}"
    client = login(author)
    assert b'data-testid="edit-story"' in client.get(path).content
    assert b'data-testid="edit-story"' not in login(other).get(path).content
    assert (
        login(other).post(f"{path}/edit", {"title": "Hijack", "url": "https://evil.example/"}).status_code
        == 403
    )
    assert login(other).post(f"{path}/delete").status_code == 403

    response = client.post(
        f"{path}/edit", {"title": "After", "url": "https://example.com/e2", "text": "More."}
    )
    assert response.status_code == 302
    assert b"After" in client.get(path).content

    assert b"Delete this story?" in client.get(f"{path}/delete").content
    assert client.post(f"{path}/delete").status_code == 302
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/s/999999999", "/s/99999999999999999999999", "/api/stories/999999999"])
def test_unknown_stories_are_404s(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/newest", "/search?q=cache", "/u/user1"])
@pytest.mark.parametrize("page", ["0", "x", "501", "1e3", "%EF%BC%92"])
def test_bad_page_numbers_are_400_pages_everywhere(client, path, page):
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}page={page}")
    assert response.status_code == 400
    assert b"whole number" in response.content


def test_home_lists_stories_from_the_platform(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="story"') == 20, "a full first page of demo stories"
    assert response["X-Served-By"] == settings.NODE_NAME
    assert re.search(r'data-testid="platform-node">platform\d', html)


def test_pages_link_hashed_assets_on_the_cdn_host(client):
    html = client.get("/").content.decode()
    assert re.search(re.escape(settings.STATIC_URL) + r"web/site\.[0-9a-f]{12}\.css", html)


@pytest.mark.parametrize("page", ["0", "-1", "x", "501", "1e3", "２"])
def test_a_bad_page_number_is_a_400_with_a_message(client, page):
    response = client.get("/", {"page": page})
    assert response.status_code == 400
    assert b"whole number" in response.content


def test_the_header_offers_log_in_to_visitors(client):
    html = client.get("/newest").content.decode()
    assert 'data-testid="nav-login"' in html and 'data-testid="nav-signup"' in html
    assert 'data-testid="nav-search"' in html
