"""news.clicks: the click stream's events, publisher and batched writes, against the
real RabbitMQ (the tests' own virtual host) and Postgres."""

import json
import uuid

import pika
import pytest
from django.conf import settings

from jobqueue import CLICKS_QUEUE
from news import clicks
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
