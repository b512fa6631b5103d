"""news.api.members: sign-up, login, profiles and pictures, through HTTP."""

import io

import pytest
from PIL import Image

from news import avatars
from tests.news.test_avatars import png_claiming
from tests.support import acting

pytestmark = pytest.mark.django_db


def test_an_upload_that_is_not_a_picture_names_the_field(api, five_stories):
    author = five_stories[0].author_id
    response = api.post(
        f"/api/v1/users/{author}/avatar",
        {"image": io.BytesIO(b"GIF89a but not really")},
        **acting(author),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "image", "message": avatars.NOT_A_PICTURE}]


def test_a_decompression_bomb_is_a_400_that_says_why(api, five_stories):
    author = five_stories[0].author_id
    bomb = io.BytesIO(png_claiming(30_000, 30_000))
    response = api.post(f"/api/v1/users/{author}/avatar", {"image": bomb}, **acting(author))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "image", "message": avatars.TOO_MANY_PIXELS}]


def test_a_picture_in_a_format_the_site_does_not_accept_is_a_400(api, five_stories):
    author = five_stories[0].author_id
    bitmap = io.BytesIO()
    Image.new("RGB", (64, 64), "orange").save(bitmap, format="BMP")
    bitmap.seek(0)
    response = api.post(f"/api/v1/users/{author}/avatar", {"image": bitmap}, **acting(author))
    assert response.status_code == 400
    assert response.json()["detail"] == avatars.NOT_A_PICTURE


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "with an Idempotency-Key"])
def test_an_upload_past_the_body_limit_is_a_413_that_says_why(api, five_stories, settings, keyed):
    """Whether the body is read whole first (a keyed write: the idempotency middleware's
    fingerprint) or streamed to the upload handlers."""
    author = five_stories[0].author_id
    upload = io.BytesIO(b"\0" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    headers = {"HTTP_IDEMPOTENCY_KEY": "too-large"} if keyed else {}
    response = api.post(f"/api/v1/users/{author}/avatar", {"image": upload}, **acting(author), **headers)
    assert response.status_code == 413
    assert "larger than 2112 KB" in response.json()["detail"]


def test_a_picture_is_reencoded_as_a_small_png(api, five_stories):
    author = five_stories[0].author_id
    upload = io.BytesIO()
    Image.new("RGB", (1200, 800), "orange").save(upload, format="JPEG")
    upload.seek(0)
    upload.name = "me.jpg"
    response = api.post(f"/api/v1/users/{author}/avatar", {"image": upload}, **acting(author))
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
