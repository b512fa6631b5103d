"""web.middleware.platform_calls: read-your-own-writes across the replica (a visitor's
writes travel as a WAL position in a signed cookie, and come back to the platform with
every call made for them), and writes named by the request's write key, so that a
write sent again happens once."""

import re
import time
import uuid

import pytest
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory
from urllib3.exceptions import ProtocolError

from web.middleware import (
    READ_AFTER_COOKIE,
    READ_AFTER_MAX_AGE,
    READ_AFTER_MAX_LENGTH,
    READ_AFTER_SALT,
    read_after,
)
from web.platform_client import LSN, READ_AFTER_HEADER, platform


def signed(value: str) -> str:
    """`value` as this site signs the cookie."""
    response = HttpResponse()
    response.set_signed_cookie(READ_AFTER_COOKIE, value, salt=READ_AFTER_SALT)
    return response.cookies[READ_AFTER_COOKIE].value


def test_a_write_leaves_its_wal_position_in_a_signed_cookie(member, login):
    client = login(member)
    response = client.post("/submit", {"title": "Mine", "url": "https://example.com/mine", "text": ""})
    assert response.status_code == 302
    cookie = response.cookies[READ_AFTER_COOKIE]
    assert not LSN.fullmatch(cookie.value), "signed"
    assert LSN.fullmatch(
        read_after(RequestFactory(HTTP_COOKIE=f"{READ_AFTER_COOKIE}={cookie.value}").get("/"))
    )
    assert len(cookie.value) <= READ_AFTER_MAX_LENGTH
    assert cookie["httponly"] and cookie["max-age"] == READ_AFTER_MAX_AGE
    # The author's own page, right after: the story is there.
    assert "Mine" in client.get(f"/u/{member['username']}").content.decode()


def test_reading_sets_no_cookie(member, login):
    assert READ_AFTER_COOKIE not in login(member).get("/").cookies


@pytest.fixture
def sent(monkeypatch) -> list:
    """The read-after position of every call this process makes to the platform."""
    positions = []
    original = platform.nodes.send

    def spy(method, path, headers, **kwargs):
        positions.append(headers.get(READ_AFTER_HEADER))
        return original(method, path, headers=headers, **kwargs)

    monkeypatch.setattr(platform.nodes, "send", spy)
    return positions


def test_the_cookie_goes_back_to_the_platform_with_every_call(member, login, sent):
    client = login(member)
    sent.clear()
    client.cookies[READ_AFTER_COOKIE] = signed("0/1")
    assert client.get("/").status_code == 200
    assert sent and set(sent) == {"0/1"}


def forged_elsewhere(value: str) -> str:
    """Signed, but not by this site's key."""
    return signing.Signer(key="another site", salt=READ_AFTER_COOKIE + READ_AFTER_SALT).sign(value)


def tampered(value: str) -> str:
    good = signed("0/1")
    return value + good[len("0/1") :]


def expired(value: str, monkeypatch) -> str:
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: 1_000_000_000.0)
        return signed(value)


@pytest.mark.parametrize(
    "cookie",
    [
        lambda _: "FFFFFFFF/FFFFFFFF",  # a position far ahead, unsigned: every read on the primary
        lambda _: tampered("FFFFFFFF/FFFFFFFF"),
        lambda _: forged_elsewhere("FFFFFFFF/FFFFFFFF"),
        lambda monkeypatch: expired("0/1", monkeypatch),
        lambda _: signed("not a position"),
        lambda _: signed("123456789/0"),  # more hex digits than a WAL position has
    ],
    ids=["unsigned", "tampered", "another key", "expired", "signed nonsense", "out of bounds"],
)
def test_a_forged_expired_or_unbounded_cookie_is_ignored(member, login, sent, monkeypatch, cookie):
    client = login(member)
    sent.clear()
    client.cookies[READ_AFTER_COOKIE] = cookie(monkeypatch)
    assert client.get("/").status_code == 200
    assert sent and set(sent) == {None}


def test_a_cookie_too_long_to_be_a_signed_position_is_ignored_unchecked(client, sent, monkeypatch):
    """(A visitor's client: no session cookie, the one other signed value a request carries.)"""
    monkeypatch.setattr(signing.TimestampSigner, "unsign", lambda *args, **kwargs: pytest.fail("checked"))
    client.cookies[READ_AFTER_COOKIE] = signed("0/1") + "x" * 100_000
    assert client.get("/").status_code == 200
    assert sent and set(sent) == {None}


class LosesTheFirstAnswer:
    """The platform pool, as seen through a connection that drops the first answer to a
    write after the platform has made it (a node that died as it answered)."""

    def __init__(self, nodes) -> None:
        self.nodes = nodes
        self.writes = 0

    def send(self, method: str, path: str, **kwargs):
        response = self.nodes.send(method, path, **kwargs)
        if method != "GET":
            self.writes += 1
            if self.writes == 1:
                raise ProtocolError("connection reset before the answer arrived")
        return response


def test_a_write_whose_answer_was_lost_is_sent_again_and_happens_once(member, login, monkeypatch):
    client = login(member)
    lossy = LosesTheFirstAnswer(platform.nodes)
    monkeypatch.setattr(platform, "nodes", lossy)
    title = f"Sent again {uuid.uuid4().hex[:8]}"
    response = client.post("/submit", {"title": title, "url": "https://example.com/again", "text": ""})
    assert response.status_code == 302
    assert lossy.writes == 2, "the platform was asked twice"
    monkeypatch.setattr(platform, "nodes", lossy.nodes)
    mine = platform.stories_by(member["id"], 20, 0)["items"]
    assert [story["title"] for story in mine] == [title], "and wrote once"


def test_a_form_sent_twice_writes_once(member, login):
    client = login(member)
    form = client.get("/submit").content.decode()
    key = re.search(r'name="write_key" value="([0-9a-f]{32})"', form)[1]
    assert key not in client.get("/submit").content.decode(), "each filling-in of a form has its own key"
    title = f"Pressed twice {uuid.uuid4().hex[:8]}"
    data = {"title": title, "url": "https://example.com/twice", "text": "", "write_key": key}
    first, second = client.post("/submit", data), client.post("/submit", data)
    assert first["Location"] == second["Location"], "the same story"
    assert len(platform.stories_by(member["id"], 20, 0)["items"]) == 1
