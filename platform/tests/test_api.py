import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

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


def test_an_unknown_acting_member_is_a_401_not_a_500(api):
    response = api.post(
        "/api/v1/stories",
        {"title": "Ghost", "url": "https://example.com"},
        content_type="application/json",
        HTTP_X_ACTING_USER="999999999",
    )
    assert response.status_code == 401
    assert "No member" in response.json()["detail"]


def test_an_upload_that_is_not_a_picture_names_the_field(api, stories):
    author = stories[0].author_id
    response = api.post(
        f"/api/v1/users/{author}/avatar",
        {"image": io.BytesIO(b"GIF89a but not really")},
        HTTP_X_ACTING_USER=str(author),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "image", "message": "The file is not a picture this site can read."}
    ]


def test_a_picture_is_reencoded_as_a_small_png(api, stories):
    author = stories[0].author_id
    upload = io.BytesIO()
    Image.new("RGB", (1200, 800), "orange").save(upload, format="JPEG")
    upload.seek(0)
    upload.name = "me.jpg"
    response = api.post(f"/api/v1/users/{author}/avatar", {"image": upload}, HTTP_X_ACTING_USER=str(author))
    assert response.status_code == 200, response.content
    assert response.json()["avatar_version"] == 1
    picture = Image.open(io.BytesIO(api.get(f"/api/v1/users/{author}/avatar").content))
    assert (picture.format, max(picture.size)) == ("PNG", 256)


def test_a_nul_byte_in_a_login_or_a_username_is_a_clear_refusal_not_a_500(api):
    response = api.post(
        "/api/v1/auth/login", {"username": "a\x00", "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert api.get("/api/v1/users/by-username/a%00b").status_code == 404
