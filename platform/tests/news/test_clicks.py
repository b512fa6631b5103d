"""news.clicks: the click stream's events, publisher and batched writes, against the
real RabbitMQ (the tests' own virtual host) and Postgres."""

import json
import time
import uuid

import pika
import pytest
from django.conf import settings

from jobqueue import CLICKS_QUEUE
from news import clicks
from news.cache import client as redis_client
from news.models import Click, Story
from tests.support import silent_server

pytestmark = pytest.mark.django_db


def click_body(**changes) -> bytes:
    event = {
        "event_id": str(uuid.uuid4()),
        "story_id": 1,
        "user_id": None,
        "referrer_domain": "lobste.rs",
        "at": "2026-11-28T10:00:00+00:00",
    }
    return json.dumps({**event, **changes}).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        click_body(event_id="nope"),
        click_body(story_id="1"),
        click_body(story_id=0),
        click_body(user_id=1.5),
        click_body(referrer_domain="x" * 254),
        click_body(referrer_domain="evil\x00"),
        click_body(at="yesterday"),
        click_body(at="2026-11-28T10:00:00"),
        json.dumps({"story_id": 1}).encode(),
    ],
)
def test_a_message_that_is_not_a_click_event_is_refused(body):
    with pytest.raises(clicks.InvalidEvent):
        clicks.parse(body)


def test_clicks_are_stored_once_per_event_and_dropped_for_deleted_stories(author):
    story = Story.objects.create(author=author, title="Clicked", url="https://example.com/c")
    gone = Story.objects.create(author=author, title="Gone", url="https://example.com/g")
    gone_id = gone.pk
    gone.delete()
    events = [
        clicks.parse(click_body(story_id=story.pk, user_id=author.pk)),
        clicks.parse(click_body(story_id=story.pk, user_id=999_999_999)),  # a member deleted meanwhile
        clicks.parse(click_body(story_id=gone_id)),
    ]
    assert clicks.store(events) == 2
    assert clicks.store(events) == 0, "a redelivered batch stores nothing twice"
    assert sorted(Click.objects.filter(story=story).values_list("user_id", flat=True), key=str) == [
        author.pk,
        None,
    ]


def test_a_click_goes_on_the_stream_with_confirms():
    """Published to the tests' own RabbitMQ virtual host and read back from its queue."""
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        channel = amqp.channel()
        clicks.declare(channel)
        channel.queue_purge(CLICKS_QUEUE)
        clicks.record(story_id=42, user_id=None, referrer_domain="example.org")
        method, properties, body = channel.basic_get(CLICKS_QUEUE, auto_ack=True)
    assert method is not None, "the event is on the queue"
    event = clicks.parse(body)
    assert (event["story_id"], event["referrer_domain"]) == (42, "example.org")
    assert properties.delivery_mode == 2, "persistent"
    assert not Click.objects.exists(), "nothing written inline while the broker takes events"


def test_when_the_broker_is_down_a_click_is_written_inline(author):
    story = Story.objects.create(author=author, title="Down", url="https://example.com/down")
    dead = clicks.Publisher("amqp://guest:guest@127.0.0.1:1/%2F", timeout=0.5)
    assert dead.publish(clicks.event(story.pk, None, "")) is False
    clicks.publisher, live = dead, clicks.publisher
    try:
        clicks.record(story.pk, None, "duckduckgo.com")
    finally:
        clicks.publisher = live
    assert Click.objects.filter(story=story, referrer_domain="duckduckgo.com").count() == 1


def test_a_broker_that_accepts_but_never_answers_is_tried_once_then_clicks_go_inline(author):
    """A paused RabbitMQ: TCP connects, the AMQP handshake never completes. The click
    is written inline; the broker is tried once, then skipped for the cooldown."""
    story = Story.objects.create(author=author, title="Paused", url="https://example.com/paused")
    with silent_server() as (port, attempts):
        stuck = clicks.Publisher(f"amqp://guest:guest@127.0.0.1:{port}/%2F", timeout=0.5)
        clicks.publisher, live = stuck, clicks.publisher
        try:
            clicks.record(story.pk, None, "paused.example")
            clicks.record(story.pk, None, "paused.example")
        finally:
            clicks.publisher = live
        assert attempts() == 1
    assert Click.objects.filter(story=story, referrer_domain="paused.example").count() == 2


@pytest.fixture
def stream():
    """A function counting the click events on the tests' own clicks queue, emptied first."""
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        channel = amqp.channel()
        clicks.declare(channel)
        channel.queue_purge(CLICKS_QUEUE)
        yield lambda: channel.queue_declare(CLICKS_QUEUE, passive=True).method.message_count


def test_a_click_flood_from_one_visitor_on_one_story_counts_once(stream, settings):
    """Only the counting is deduplicated: the caller still gets the story's URL each time
    (news.stories.record_click); here, only the first click goes on the stream."""
    assert settings.CLICK_DEDUP_SECONDS == 600
    counted = [clicks.record(7, None, "forged.example", visitor="v1") for _ in range(50)]
    assert counted == [True] + [False] * 49
    assert stream() == 1
    assert clicks.record(7, None, "forged.example", visitor="v2") is True, "another visitor counts"
    assert clicks.record(8, None, "forged.example", visitor="v1") is True, "another story counts"
    assert [clicks.record(7, 5, "") for _ in range(3)] == [True, False, False], "a member, by their id"
    assert clicks.record(7, 6, "", visitor="v1") is True, "a member is not the visitor their product names"
    assert stream() == 5


def test_a_click_after_the_window_counts_again(stream, monkeypatch):
    monkeypatch.setattr(clicks.dedup, "window", 1)
    assert clicks.record(7, None, "", visitor="v1") is True
    assert clicks.record(7, None, "", visitor="v1") is False
    time.sleep(1.1)
    assert clicks.record(7, None, "", visitor="v1") is True
    assert stream() == 2


def test_an_unnamed_visitor_or_a_window_of_zero_counts_every_click(stream, monkeypatch):
    assert [clicks.record(7, None, "") for _ in range(3)] == [True] * 3
    monkeypatch.setattr(clicks.dedup, "window", 0)
    assert [clicks.record(7, None, "", visitor="v1") for _ in range(2)] == [True] * 2
    assert stream() == 5


def test_the_window_holds_across_platform_nodes_and_lets_the_same_click_through_again():
    """Two nodes: two processes' own Redis clients, one Redis. A retried click keeps its
    event id (its idempotency key's): it counts, and its event is stored once."""
    node1 = clicks.Dedup(redis_client(settings.REDIS_URL, 0.25), window=600)
    node2 = clicks.Dedup(redis_client(settings.REDIS_URL, 0.25), window=600)
    first = str(uuid.uuid4())
    assert node1.first(7, "visitor.v1", first) is True
    assert node2.first(7, "visitor.v1", str(uuid.uuid4())) is False
    assert node2.first(7, "visitor.v1", first) is True, "the same click, sent again to another node"


def test_when_redis_does_not_answer_every_click_counts_and_redis_is_skipped_for_a_while():
    with silent_server() as (port, attempts):
        dead = clicks.Dedup(redis_client(f"redis://127.0.0.1:{port}/0", 0.25), window=600)
        assert [dead.first(7, "visitor.v1", str(uuid.uuid4())) for _ in range(3)] == [True] * 3
        assert attempts() == 1, "tried once, then skipped for its cooldown"
