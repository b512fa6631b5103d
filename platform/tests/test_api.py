from datetime import timedelta

import pytest
from django.utils import timezone

from news.models import Story, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories() -> list[Story]:
    author = User.objects.create(username="ada", name="Ada")
    now = timezone.now()
    return [
        Story.objects.create(
            author=author,
            title=f"Story {i}",
            url=f"https://example.com/{i}",
            created_at=now - timedelta(minutes=i),
        )
        for i in range(5)
    ]


def test_stories_are_listed_newest_first_with_their_author(api, stories):
    response = api.get("/api/v1/stories", {"limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert [item["title"] for item in body["items"]] == ["Story 0", "Story 1", "Story 2"]
    author = body["items"][0]["author"]
    assert (author["id"], author["username"], author["name"]) == (stories[0].author_id, "ada", "Ada")
    assert body["has_more"] is True


def test_the_last_page_says_there_is_no_more(api, stories):
    body = api.get("/api/v1/stories", {"limit": 3, "offset": 3}).json()
    assert [item["title"] for item in body["items"]] == ["Story 3", "Story 4"]
    assert body["has_more"] is False


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"offset": -1}])
def test_bad_paging_is_a_400_with_reasons(api, query):
    response = api.get("/api/v1/stories", query)
    assert response.status_code == 400
    assert response.json()["errors"], "the caller is told what is wrong"


def test_the_api_refuses_callers_without_the_token(client):
    response = client.get("/api/v1/stories", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401


def test_probes_need_no_token_and_name_the_node(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["X-Served-By"] == settings.NODE_NAME


def test_the_openapi_schema_is_generated_from_the_code(api):
    schema = api.get("/api/v1/openapi.json").json()
    assert "/api/v1/stories" in schema["paths"]
