"""Writes under failure: a write may be sent again, and happens once.

Every write carries a key naming it (a form's write key; for a click through, the
edge's request id), and the platform answers a repeat of a key as it answered the
first (platform/idempotency). So a client may always send again a write whose
answer it lost, and a balancer may send a keyed write to another node.

Each test forces its case: the balancers' runtime API sends the request where it
must go, and a paused container holds it there."""

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from stack import Visitor, broken, compose, make, psql, wait_for


@dataclass
class Held:
    answer: Any = None  # what the sender got
    woke: float = 0.0  # when the frozen node was let run again


@contextmanager
def held_by_a_frozen_node(node: str, others: tuple[str, ...], send: Callable[[], Any]) -> Iterator[Held]:
    """`send` runs while `node` is the only one of its pool taking new requests, and
    frozen: the node holds the request. A second later the others take new work
    again. The block runs once `send` has its answer, the node still frozen; the node
    runs again after it (`woke`), and does what it held."""
    held = Held()
    for other in others:
        make("drain", f"SERVER={other}")
    try:
        with broken(node, "pause"):
            sender = threading.Thread(target=lambda: setattr(held, "answer", send()))
            sender.start()
            time.sleep(1)  # the frozen node has taken the request
            for other in others:
                make("enable", f"SERVER={other}")
            sender.join(30)
            yield held
            held.woke = time.time()
    finally:
        for other in others:
            make("enable", f"SERVER={other}")


def repeated_since(moment: float, write: str) -> bool:
    """Whether a platform node has answered this write as a repeat since the moment: it
    ran it, found its Idempotency-Key answered already, and wrote nothing."""
    logs = compose("logs", "--no-color", "--since", str(int(moment)), "platform1", "platform2").stdout
    return f"{write}: a repeat of a write already answered" in logs


def stories_titled(title: str) -> int:
    return int(psql(f"SELECT count(*) FROM news_story WHERE title = '{title}'"))


def story_form(member: Visitor, title: str) -> dict[str, str]:
    """A filled-in story form, with its hidden fields (its write key among them)."""
    return {**member.form_fields("/submit"), "title": title, "url": "https://example.com/w", "text": ""}


def test_a_form_sent_twice_writes_once(edge):
    """A double click, or the button pressed again after an error page."""
    member = Visitor(edge).log_in("user61")
    title = f"Pressed twice {uuid.uuid4().hex[:8]}"
    form = story_form(member, title)
    answers = [member.session.post(f"{edge}/submit", data=form, timeout=10) for _ in range(2)]
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
    form = story_form(member, title)

    def post() -> requests.Response:
        return member.session.post(f"{edge}/submit", data=form, timeout=30)

    with held_by_a_frozen_node("platform1", ("platform2",), post) as held:
        assert held.answer.status_code == 200, "the member's post succeeded"
        assert stories_titled(title) == 1
    wait_for(
        lambda: repeated_since(held.woke, "POST /api/v1/stories"), timeout=30,
        what="platform1 to run the post it held",
    )  # fmt: skip
    assert stories_titled(title) == 1, "and it wrote nothing: the key was answered"


def test_a_click_through_the_edge_retries_is_counted_once(edge):
    """web2 freezes with a click through in hand (a GET): the edge gives up on it
    after its server timeout (8 s) and sends it to another web node, under the same
    request id, and the click is recorded. When web2 wakes up it records the click
    too, with the same key: counted once. (By a reader of the test's own: a reader's
    clicks on a story count once per window anyway, so a reader who clicked it before
    would prove nothing.)"""
    newest = requests.get(f"{edge}/newest", timeout=10).text
    story_id = int(newest.split('data-story-id="', 1)[1].split('"', 1)[0])
    referrer = f"retried-{uuid.uuid4().hex[:8]}.example"
    reader = Visitor(edge).sign_up(f"retried_{uuid.uuid4().hex[:8]}")

    def click() -> int:
        headers = {"Referer": f"https://{referrer}/"}
        return reader.session.get(
            f"{edge}/s/{story_id}/go", headers=headers, allow_redirects=False, timeout=30
        ).status_code

    with held_by_a_frozen_node("web2", ("web1", "web3"), click) as held:
        assert held.answer == 302
    counted = f"SELECT count(*) FROM news_click WHERE referrer_domain = '{referrer}'"
    wait_for(lambda: psql(counted) != "0", timeout=60, what="the click counted")
    # A click keeps no answer on the platform (it changes no row): web2's copy, sent as it
    # wakes, puts the same event (the same id, from the same key) on the stream again,
    # and the consumer stores it once. What it sent would have landed by now (batches: 1 s).
    time.sleep(5)
    assert psql(counted) == "1"


def test_a_post_held_by_a_frozen_web_node_is_not_sent_elsewhere_and_sent_again_writes_once(edge):
    """The edge never sends a POST to another node (it does not know the write's key):
    the member gets a 504 after the edge's server timeout (8 s). The member sends the
    form again, as a person would, and the story is stored once, however the frozen
    node ends."""
    member = Visitor(edge).log_in("user63")
    title = f"Held by a frozen web node {uuid.uuid4().hex[:8]}"
    form = story_form(member, title)

    def post() -> int:
        return member.session.post(f"{edge}/submit", data=form, timeout=30).status_code

    with held_by_a_frozen_node("web2", ("web1", "web3"), post) as held:
        assert held.answer == 504, "the edge gave up on the post and did not replay it"
        again = member.session.post(f"{edge}/submit", data=form, timeout=10)
        assert again.status_code == 200 and title in again.text
        assert stories_titled(title) == 1
    wait_for(
        lambda: repeated_since(held.woke, "POST /api/v1/stories"), timeout=30,
        what="web2 to run the post it held, and the platform to answer it as a repeat",
    )  # fmt: skip
    assert stories_titled(title) == 1, "under the same write key: nothing more"
