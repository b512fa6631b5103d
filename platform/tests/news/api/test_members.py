"""news.api.members: sign-up, login, profiles and pictures, through HTTP."""

import io

import pytest
from PIL import Image

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
    assert response.json()["errors"] == [
        {"field": "image", "message": "The file is not a picture this site can read."}
    ]


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
