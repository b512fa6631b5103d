"""news.api.stories: lists of stories and posting, through HTTP."""

import pytest

from news import stories, timelines
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
