"""web.middleware.platform_calls: read-your-own-writes across the replica. A visitor's
writes travel as a WAL position in a cookie, and come back to the platform with
every call made for them."""

import pytest

from web.middleware import READ_AFTER_COOKIE
from web.platform_client import LSN, READ_AFTER_HEADER, platform


def test_a_write_leaves_its_wal_position_in_a_cookie(member, login):
    client = login(member)
    response = client.post("/submit", {"title": "Mine", "url": "https://example.com/mine", "text": ""})
    assert response.status_code == 302
    assert LSN.fullmatch(response.cookies[READ_AFTER_COOKIE].value)
    assert response.cookies[READ_AFTER_COOKIE]["httponly"]
    # The author's own page, right after: the story is there.
    assert "Mine" in client.get(f"/u/{member['username']}").content.decode()


def test_reading_sets_no_cookie(member, login):
    assert READ_AFTER_COOKIE not in login(member).get("/").cookies


@pytest.fixture
def sent(monkeypatch) -> list:
    """The read-after position of every call this process makes to the platform."""
    positions = []
    original = platform.session.request

    def spy(method, url, headers=None, **kwargs):
        positions.append((headers or {}).get(READ_AFTER_HEADER))
        return original(method, url, headers=headers, **kwargs)

    monkeypatch.setattr(platform.session, "request", spy)
    return positions


def test_the_cookie_goes_back_to_the_platform_with_every_call(member, login, sent):
    client = login(member)
    sent.clear()
    client.cookies[READ_AFTER_COOKIE] = "0/1"
    assert client.get("/").status_code == 200
    assert sent and set(sent) == {"0/1"}


def test_a_forged_cookie_is_ignored(member, login, sent):
    client = login(member)
    sent.clear()
    client.cookies[READ_AFTER_COOKIE] = "not a position"
    assert client.get("/").status_code == 200
    assert sent and set(sent) == {None}
