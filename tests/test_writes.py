"""Writes under failure: a write may be sent again, and happens once.

Every write carries a key naming it (a form's write key; for a click through, the
edge's request id), and the platform answers a repeat of a key as it answered the
first (platform/idempotency). So a client may always send again a write whose
answer it lost, and a balancer may send a keyed write to another node.

Each test forces the case: the balancers' runtime API sends the request where it
must go, and a paused container holds it there."""

import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from stack import Visitor, broken, compose, make, psql, wait_for


@contextmanager
def only(server: str, *others: str) -> Iterator[None]:
    """Every new request to `server`'s pool goes to it: the others are drained."""
    for other in others:
        make("drain", f"SERVER={other}")
    try:
        yield
    finally:
        for other in others:
            make("enable", f"SERVER={other}")


def ran_since(moment: float, service: str, request: str) -> bool:
    """Whether the service's access log shows the request since the moment."""
    return request in compose("logs", "--no-color", "--since", str(int(moment)), service).stdout


def stories_titled(title: str) -> int:
    return int(psql(f"SELECT count(*) FROM news_story WHERE title = '{title}'"))


def test_a_form_sent_twice_writes_once(edge):
    """A double click, or the button pressed again after an error page."""
    member = Visitor(edge).log_in("user61")
    form = member.get("/submit").text
    fields = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1],
        "write_key": re.search(r'name="write_key" value="([^"]+)"', form)[1],
    }
    title = f"Pressed twice {uuid.uuid4().hex[:8]}"
    data = {**fields, "title": title, "url": "https://example.com/twice", "text": ""}
    answers = [member.session.post(f"{edge}/submit", data=data, timeout=10) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].url == answers[1].url, "both answers show the same story"
    assert stories_titled(title) == 1


def test_a_write_stuck_on_a_frozen_platform_node_is_sent_to_the_other_and_happens_once(edge):
    """platform1 freezes with a post in hand: platform-lb gives up on it after its
    server timeout (4 s) and sends the post, which carries its key, to platform2,
    which writes it. When platform1 wakes up it runs the post too, finds the key
    answered, and writes nothing."""
    member = Visitor(edge).log_in("user62")
    title = f"Stuck on a frozen node {uuid.uuid4().hex[:8]}"
    data = {"title": title, "url": "https://example.com/stuck", "text": ""}
    answers: list[requests.Response] = []
    with only("platform1", "platform2"), broken("platform1", "pause") as frozen:
        poster = threading.Thread(target=lambda: answers.append(member.submit("/submit", data)))
        poster.start()
        time.sleep(1)  # platform1 holds the post; platform2 may take new work again
        make("enable", "SERVER=platform2")
        poster.join(30)
        assert [answer.status_code for answer in answers] == [200], "the member's post succeeded"
        assert stories_titled(title) == 1
        woke = time.time()
        frozen.mend()

    wait_for(
        lambda: ran_since(woke, "platform1", '"POST /api/v1/stories HTTP/1.1" 201'), timeout=30,
        what="platform1 to run the post it held",
    )  # fmt: skip
    assert stories_titled(title) == 1, "and it wrote nothing: the key was answered"


def test_a_click_through_the_edge_retries_is_counted_once(edge):
    """web2 freezes with a click through in hand (a GET): the edge gives up on it
    after its server timeout (8 s) and sends it to another web node, under the same
    request id, and the click is recorded. When web2 wakes up it records the click
    too, with the same key: counted once."""
    story_id = int(re.search(r'data-story-id="(\d+)"', requests.get(f"{edge}/newest", timeout=10).text)[1])
    referrer = f"retried-{uuid.uuid4().hex[:8]}.example"
    answers: list[int] = []

    def click() -> None:
        response = requests.get(
            f"{edge}/s/{story_id}/go",
            headers={"Referer": f"https://{referrer}/"},
            allow_redirects=False,
            timeout=30,
        )
        answers.append(response.status_code)

    with only("web2", "web1", "web3"), broken("web2", "pause") as frozen:
        clicker = threading.Thread(target=click)
        clicker.start()
        time.sleep(1)  # web2 holds the click; the others may take new work again
        make("enable", "SERVER=web1")
        make("enable", "SERVER=web3")
        clicker.join(30)
        assert answers == [302]
        woke = time.time()
        frozen.mend()

    wait_for(
        lambda: ran_since(woke, "web2", f"GET /s/{story_id}/go"), timeout=30, what="web2 to run the click"
    )
    counted = f"SELECT count(*) FROM news_click WHERE referrer_domain = '{referrer}'"
    wait_for(lambda: psql(counted) != "0", timeout=60, what="the click counted")
    time.sleep(3)  # what web2 sent, had it counted, would have landed by now (batches: 1 s)
    assert psql(counted) == "1"


def test_a_post_held_by_a_frozen_web_node_is_not_sent_elsewhere_and_sent_again_writes_once(edge):
    """The edge never sends a POST to another node (it does not know the write's key):
    the member gets a 504 after the edge's server timeout (8 s). The member sends the
    form again, as a person would, and the story is stored once, however the frozen
    node ends."""
    member = Visitor(edge).log_in("user63")
    title = f"Held by a frozen web node {uuid.uuid4().hex[:8]}"
    data = {**member.form_fields("/submit"), "title": title, "url": "https://example.com/held", "text": ""}
    answers: list[int] = []

    def post() -> None:
        answers.append(member.session.post(f"{edge}/submit", data=data, timeout=30).status_code)

    with only("web2", "web1", "web3"), broken("web2", "pause"):
        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(1)  # web2 holds the post; the others may take new work again
        make("enable", "SERVER=web1")
        make("enable", "SERVER=web3")
        poster.join(30)
        assert answers == [504], "the edge gave up on the post and did not replay it"
        again = member.session.post(f"{edge}/submit", data=data, timeout=10)
        assert again.status_code == 200 and title in again.text
        assert stories_titled(title) == 1
        woke = time.time()
    wait_for(lambda: ran_since(woke, "web2", "POST /submit"), timeout=30, what="web2 to run the post it held")
    assert stories_titled(title) == 1, "under the same write key: nothing more"
