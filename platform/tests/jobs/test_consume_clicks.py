"""manage.py consume_clicks: the click stream written to Postgres in batches, against the
real RabbitMQ (the tests' own virtual host) and Postgres."""

import json
import threading
import time
import uuid

import pika
import pytest
from django.conf import settings
from django.db import OperationalError, connection

from jobqueue import CLICKS_QUEUE, dead_letter_queue
from jobs.management.commands import consume_clicks
from news import clicks
from news.models import Click, Story

# Each test commits for real: the consumer's writes and retries are transactions of their own.
pytestmark = pytest.mark.django_db(transaction=True)


def event(story_id: int) -> bytes:
    """A click event's body (with an id past Postgres' bigint, one the database refuses)."""
    return json.dumps(
        {
            "event_id": str(uuid.uuid4()),
            "story_id": story_id,
            "user_id": None,
            "referrer_domain": "batched.example",
            "at": "2026-11-28T10:00:00+00:00",
        }
    ).encode()


@pytest.fixture
def channel():
    """A channel on the tests' virtual host, with the clicks queue and its dead letters empty."""
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        channel = amqp.channel()
        channel.confirm_delivery()  # a publish returns once the message is on the queue
        consume_clicks.declare(channel)
        channel.queue_purge(CLICKS_QUEUE)
        channel.queue_purge(dead_letter_queue(CLICKS_QUEUE))
        yield channel


@pytest.fixture
def story(author) -> Story:
    return Story.objects.create(author=author, title="Clicked", url="https://example.com/c")


def waiting(queue: str) -> int:
    """Messages in the queue that nobody holds (a fresh connection: a passive declare)."""
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        return amqp.channel().queue_declare(queue, passive=True).method.message_count


def test_a_batch_is_written_in_one_statement_and_acknowledged_after_its_commit(channel, story, monkeypatch):
    """Postgres fails twice (restarting, say): the batch is written again, whole, after
    a growing pause, and only then acknowledged, all at once."""
    for _ in range(3):
        channel.basic_publish("", CLICKS_QUEUE, event(story.pk))
    batch = consume_clicks.Batch()
    for _ in range(3):
        method, _, body = channel.basic_get(CLICKS_QUEUE, auto_ack=False)
        batch.add(clicks.parse(body), method.delivery_tag)

    writes: list[int] = []
    store = clicks.store

    def restarting_database(events: list[dict]) -> int:
        writes.append(len(events))
        if len(writes) < 3:
            raise OperationalError("the database system is starting up")
        return store(events)

    pauses: list[float] = []
    sleep = channel.connection.sleep
    monkeypatch.setattr(clicks, "store", restarting_database)
    monkeypatch.setattr(channel.connection, "sleep", lambda seconds: pauses.append(seconds) or sleep(seconds))
    consume_clicks.write(batch, channel)
    assert writes == [3, 3, 3], "the whole batch, in one statement, each time"
    assert pauses == [0.5, 1.0], "a growing pause between tries"
    assert Click.objects.filter(story=story).count() == 3
    channel.connection.close()  # had anything been left unacknowledged, it would be back now
    assert waiting(CLICKS_QUEUE) == 0


def test_nothing_is_acknowledged_before_it_is_written(channel, story, monkeypatch):
    """The consumer dies while Postgres is down: every event goes back to the queue."""
    channel.basic_publish("", CLICKS_QUEUE, event(story.pk))
    method, _, body = channel.basic_get(CLICKS_QUEUE, auto_ack=False)
    batch = consume_clicks.Batch()
    batch.add(clicks.parse(body), method.delivery_tag)

    class Died(Exception):
        pass

    def down(events: list[dict]) -> int:
        raise OperationalError("connection refused")

    def die(seconds: float) -> None:
        raise Died  # the process is killed while it waits to try again

    monkeypatch.setattr(clicks, "store", down)
    monkeypatch.setattr(channel.connection, "sleep", die)
    with pytest.raises(Died):
        consume_clicks.write(batch, channel)
    channel.connection.close()
    assert waiting(CLICKS_QUEUE) == 1
    assert not Click.objects.filter(story=story).exists()


def test_the_consumer_batches_events_and_dead_letters_what_is_not_one(channel, story, monkeypatch):
    """The running loop: events that arrive together are written together; a message
    that is not a click event goes to the dead-letter queue and blocks nothing."""
    writes: list[int] = []
    store = clicks.store

    def counted(events: list[dict]) -> int:
        writes.append(len(events))
        return store(events)

    monkeypatch.setattr(clicks, "store", counted)
    channel.basic_publish("", CLICKS_QUEUE, b"not a click")
    for _ in range(4):
        channel.basic_publish("", CLICKS_QUEUE, event(story.pk))
    stop = [False]

    def run() -> None:
        try:
            consume_clicks.consume(stop)
        finally:
            connection.close()

    consumer = threading.Thread(target=run)
    consumer.start()
    try:
        for _ in range(100):  # up to 10 s for the flush (every second)
            if Click.objects.filter(story=story).count() == 4:
                break
            time.sleep(0.1)
    finally:
        stop[0] = True
        consumer.join(30)
    assert not consumer.is_alive()
    assert Click.objects.filter(story=story).count() == 4
    assert writes == [4], "one batch, one statement"
    assert waiting(CLICKS_QUEUE) == 0
    assert waiting(dead_letter_queue(CLICKS_QUEUE)) == 1


def test_an_event_the_database_refuses_is_dead_lettered_and_the_rest_of_its_batch_stored(
    channel, story, caplog
):
    """A story id past a bigint is a well-formed event that Postgres refuses (not a lost
    connection): the batch is written again one event at a time; the poison event goes to
    clicks.dead-letter, with a log line, and the good ones of its batch are stored."""
    poison = event(2**63)
    for body in (event(story.pk), poison, event(story.pk), event(story.pk)):
        channel.basic_publish("", CLICKS_QUEUE, body)
    batch = consume_clicks.Batch()
    for _ in range(4):
        method, _, body = channel.basic_get(CLICKS_QUEUE, auto_ack=False)
        batch.add(clicks.parse(body), method.delivery_tag)
    consume_clicks.write(batch, channel)
    assert Click.objects.filter(story=story).count() == 3
    assert f"click event {json.loads(poison)['event_id']} refused" in caplog.text
    channel.connection.close()  # had anything been left unacknowledged, it would be back now
    assert waiting(CLICKS_QUEUE) == 0
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        dead = amqp.channel()
        for _ in range(50):  # dead-lettering is asynchronous: up to 5 s
            method, _, body = dead.basic_get(dead_letter_queue(CLICKS_QUEUE), auto_ack=True)
            if method is not None:
                break
            time.sleep(0.1)
    assert body == poison


def test_the_last_event_of_a_batch_refused_leaves_the_others_acknowledged(channel, story):
    """The batch's acknowledgement covers up to its newest stored event, never a rejected one."""
    for body in (event(story.pk), event(2**63)):
        channel.basic_publish("", CLICKS_QUEUE, body)
    batch = consume_clicks.Batch()
    for _ in range(2):
        method, _, body = channel.basic_get(CLICKS_QUEUE, auto_ack=False)
        batch.add(clicks.parse(body), method.delivery_tag)
    consume_clicks.write(batch, channel)
    assert channel.is_open, "no acknowledgement of a tag already rejected"
    channel.connection.close()
    assert waiting(CLICKS_QUEUE) == 0
    assert Click.objects.filter(story=story).count() == 1
