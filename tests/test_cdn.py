"""The CDN host as the article's CDN: members' pictures are read through from the site
on a miss, then served from the CDN's own copy, one request to the origin however
many ask at once, and still served while the site is down. A new picture has a new
URL, so nothing stale is ever served and nothing is purged."""

import re
import threading
import time
import uuid
from contextlib import ExitStack

import requests

from stack import Visitor, broken, compose, haproxy_status, png, wait_for

WEB_NODES = ("web1", "web2", "web3")


class Pictured:
    """A new member with a picture, and the address of that picture on the CDN host."""

    def __init__(self, edge: str, cdn: str) -> None:
        self.username = f"pictured_{uuid.uuid4().hex[:10]}"
        self.visitor = Visitor(edge).sign_up(self.username)
        self.cdn = cdn

    def upload(self, colour: tuple[int, int, int]) -> str:
        """Upload a picture; the path the member's page now links it at on the CDN host."""
        fields = self.visitor.form_fields("/settings/profile")
        answer = self.visitor.session.post(
            f"{self.visitor.edge}/settings/profile",
            data={**fields, "name": self.username, "bio": ""},
            files={"avatar": ("me.png", png(colour), "image/png")},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text[-500:]
        page = self.visitor.get(f"/u/{self.username}").text
        url = re.search(r'<img class="avatar[^"]*" src="([^"]+)"', page)[1]
        assert url.startswith("http://static.localhost:"), f"linked on the CDN host: {url}"
        return url.split(":", 2)[2].split("/", 1)[1]  # media/u/<member>/avatar?v=<n>

    def fetch(self, path: str) -> requests.Response:
        return requests.get(
            f"{self.cdn}/{path}", headers={"Host": "static.localhost"}, allow_redirects=False, timeout=15
        )


def origin_requests(since: float, path: str) -> int:
    """How many times the site was asked for this path since then (the edge logs every
    request it is sent)."""
    logs = compose("logs", "--no-color", "--since", str(int(since)), "edge-lb").stdout
    return logs.count(f'"GET /{path.removeprefix("media/")} ')


def test_a_picture_is_read_through_once_then_served_by_the_cdn(edge, cdn):
    member = Pictured(edge, cdn)
    started = time.time() - 1
    path = member.upload((200, 40, 40))
    first, second = member.fetch(path), member.fetch(path)
    assert (first.status_code, first.headers["X-Cache-Status"]) == (200, "MISS")
    assert (second.status_code, second.headers["X-Cache-Status"]) == (200, "HIT")
    assert first.content == second.content and first.headers["Content-Type"] == "image/png"
    assert second.headers["Cache-Control"] == "public, max-age=31536000, immutable", "the origin's"
    assert wait_for(lambda: origin_requests(started, path), timeout=10, what="the origin's log") == 1


def test_many_first_requests_at_once_reach_the_origin_once(edge, cdn):
    member = Pictured(edge, cdn)
    started = time.time() - 1
    path = member.upload((40, 200, 40))
    answers: list[requests.Response] = []
    askers = [threading.Thread(target=lambda: answers.append(member.fetch(path))) for _ in range(12)]
    for asker in askers:
        asker.start()
    for asker in askers:
        asker.join(30)
    assert [answer.status_code for answer in answers] == [200] * 12
    assert [answer.headers["X-Cache-Status"] for answer in answers].count("MISS") == 1
    assert wait_for(lambda: origin_requests(started, path), timeout=10, what="the origin's log") == 1


def test_with_the_web_tier_down_a_cached_picture_is_still_served(edge, cdn, stats):
    member = Pictured(edge, cdn)
    path = member.upload((40, 40, 200))
    picture = member.fetch(path).content
    with ExitStack() as mend:
        for node in WEB_NODES:
            mend.enter_context(broken(node, "stop"))
        assert requests.get(f"{edge}/healthz", timeout=10).status_code == 503, "the site is down"
        served = member.fetch(path)
        assert (served.status_code, served.content) == (200, picture)
        assert served.headers["X-Cache-Status"] in ("HIT", "STALE")
    wait_for(
        lambda: set(haproxy_status(stats, "web").values()) == {"UP"}, timeout=90, what="every web node back"
    )


def test_a_new_picture_has_a_new_address_and_shows_at_once(edge, cdn):
    member = Pictured(edge, cdn)
    old_path = member.upload((10, 10, 10))
    old = member.fetch(old_path)
    new_path = member.upload((250, 250, 250))
    assert new_path != old_path and new_path.endswith("?v=2")
    new = member.fetch(new_path)
    assert (new.status_code, new.headers["X-Cache-Status"]) == (200, "MISS")
    assert new.content != old.content
    # The old address keeps its old picture (an address never changes what it shows),
    # and one never served sends the reader on to the current picture, on the CDN host.
    assert member.fetch(old_path).content == old.content
    moved = member.fetch(new_path.replace("?v=2", "?v=0"))
    assert moved.status_code == 302 and moved.headers["Location"] == "/" + new_path
