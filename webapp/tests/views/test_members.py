"""web.views.members: following, profiles and pictures."""

import io
import re
import struct
import zlib

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image

from tests.conftest import acting, story_ids
from web.platform_client import platform


def count(html: str, what: str) -> int:
    return int(re.search(rf'data-testid="{what}-count">(\d+)<', html).group(1))


def test_follow_and_unfollow_change_both_counts(make_member, login):
    fan, star = make_member(), make_member()
    client = login(fan)
    page = client.get(f"/u/{star['username']}").content.decode()
    assert count(page, "followers") == 0
    assert 'data-testid="follow-button" data-following="false"' in page

    response = client.post(f"/u/{star['username']}/follow")
    assert response.status_code == 302
    page = client.get(f"/u/{star['username']}").content.decode()
    assert count(page, "followers") == 1
    assert 'data-following="true"' in page and "Unfollow" in page
    assert count(client.get(f"/u/{fan['username']}").content.decode(), "following") == 1

    client.post(f"/u/{star['username']}/unfollow")
    assert count(client.get(f"/u/{star['username']}").content.decode(), "followers") == 0
    assert count(client.get(f"/u/{fan['username']}").content.decode(), "following") == 0


def test_following_from_another_page_of_the_site_goes_back_there_and_never_off_site(make_member, login):
    fan, star, other = make_member(), make_member(), make_member()
    client = login(fan)
    assert client.post(f"/u/{star['username']}/follow", {"next": "/"})["Location"] == "/"
    off_site = client.post(f"/u/{other['username']}/follow", {"next": "https://evil.example/"})
    assert off_site["Location"] == f"/u/{other['username']}"
    assert platform.is_following(acting(fan), other["id"])


def test_no_follow_button_on_your_own_page_or_for_visitors(member, login):
    assert b'data-testid="follow-button"' not in login(member).get(f"/u/{member['username']}").content
    assert b'data-testid="follow-button"' not in Client().get(f"/u/{member['username']}").content


def test_following_needs_a_post_and_a_login(member):
    assert Client().get(f"/u/{member['username']}/follow").status_code == 405
    assert Client().post(f"/u/{member['username']}/follow")["Location"].startswith("/login")


def test_a_profile_lists_its_members_stories(member, login):
    story = platform.post_story(acting(member), "Profile listing", "https://example.com/p", "")
    html = Client().get(f"/u/{member['username']}").content.decode()
    assert story_ids(html) == [story["id"]]


def test_unknown_or_impossible_usernames_are_404_pages():
    for path in ("/u/nobody_by_this_name", "/u/" + "x" * 31, "/u/no-such", "/u/user1%00"):
        response = Client().get(path)
        assert response.status_code == 404, path
        assert b"Not found" in response.content


def png(size: tuple[int, int] = (8, 8), format: str = "PNG") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, (200, 60, 20)).save(output, format=format)
    return output.getvalue()


def upload(name: str, content: bytes) -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


def test_edit_profile_and_upload_an_avatar_served_with_cache_headers(member, login):
    client = login(member)
    page = client.get(f"/u/{member['username']}").content.decode()
    assert 'data-testid="avatar-initials"' in page
    assert client.get(f"/u/{member['username']}/avatar").status_code == 404, "no picture yet"

    response = client.post(
        "/settings/profile", {"name": "New Name", "bio": "Writes tests.", "avatar": upload("me.png", png())}
    )
    assert response.status_code == 302, response.content
    page = client.get(f"/u/{member['username']}").content.decode()
    assert "New Name" in page and "Writes tests." in page
    assert "@" + member["username"] in client.get("/").content.decode()
    avatar_url = re.search(r'<img class="avatar[^"]*" src="([^"]+)"', page).group(1)
    origin = f"/u/{member['username']}/avatar?v=1"  # what the CDN host reads through
    assert avatar_url == f"{settings.MEDIA_URL}{origin.lstrip('/')}", "linked on the CDN host"

    response = Client().get(origin)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Cookie" not in response.get("Vary", ""), "the same picture for everyone"
    assert Image.open(io.BytesIO(response.content)).size == (8, 8)

    stale = Client().get(f"/u/{member['username']}/avatar?v=0")
    assert stale.status_code == 302 and stale["Location"] == origin


def test_a_bad_or_big_picture_is_a_form_error(member, login):
    client = login(member)
    response = client.post(
        "/settings/profile", {"name": "", "bio": "", "avatar": upload("x.png", b"not a png")}
    )
    assert response.status_code == 200
    assert b'data-testid="field-error-avatar"' in response.content
    assert b"not a picture" in response.content

    big = upload("big.png", b"\0" * (2 * 1024 * 1024 + 1))
    response = client.post("/settings/profile", {"name": "", "bio": "", "avatar": big})
    assert response.status_code == 200
    assert b"larger than 2 MB" in response.content


def png_claiming(width: int, height: int) -> bytes:
    """A PNG file of a few dozen bytes whose header says width x height: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("picture", "reason"),
    [
        (png_claiming(30_000, 30_000), b"too many pixels"),
        (png_claiming(3000, 3000), b"too many pixels"),
        (png(format="BMP"), b"send a PNG, JPEG, GIF or WebP image"),
    ],
    ids=["a decompression bomb", "too many pixels", "a format the site does not accept"],
)
def test_a_picture_the_platform_refuses_is_a_form_error_that_says_why(member, login, picture, reason):
    response = login(member).post(
        "/settings/profile", {"name": "", "bio": "", "avatar": upload("me.png", picture)}
    )
    assert response.status_code == 200
    assert b'data-testid="field-error-avatar"' in response.content
    assert reason in response.content


def test_profile_fields_with_nul_are_form_errors(member, login):
    response = login(member).post("/settings/profile", {"name": "a\x00b", "bio": ""})
    assert response.status_code == 200
    assert b'data-testid="field-error-name"' in response.content
