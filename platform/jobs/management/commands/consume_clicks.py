"""The click stream consumer: takes click events from RabbitMQ's `clicks` queue and
writes them to Postgres in batches (one INSERT for up to BATCH events).

    python manage.py consume_clicks          # the `click-consumer` service runs this

Written with pika, a plain AMQP client: a stream of small events needs no task
framework. Messages are acknowledged only after their batch has committed, so a
crash redelivers them, and `news_click.event_id` makes a redelivered event a no-op.
A message that is not a click event is rejected and RabbitMQ moves it to the
`clicks.dead-letter` queue. When Postgres is down, the batch waits (unacknowledged)
and is written once it is back. When Postgres refuses the batch for any other reason
(an event it cannot store: a number out of range, say), the batch is written again
one event at a time: the good events are stored and acknowledged, and each event
refused on its own is rejected, so RabbitMQ moves it to `clicks.dead-letter`.
"""

import logging
import os
import signal
import time
from pathlib import Path
from types import FrameType
from typing import Any

import pika
import pika.exceptions
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from pika.adapters.blocking_connection import BlockingChannel

from jobqueue import CLICKS_QUEUE, DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE_ARGUMENTS, dead_letter_queue
from news import clicks

log = logging.getLogger("clickstream")

BATCH = int(os.environ.get("CLICK_BATCH", "500"))
FLUSH_SECONDS = float(os.environ.get("CLICK_FLUSH_SECONDS", "1"))
# Touched at least every FLUSH_SECONDS; the container's healthcheck reads its age.
HEARTBEAT_FILE = Path("/tmp/alive")
# The database is away (down, restarting, unreachable): wait and write again. Any other
# DatabaseError is a refusal of what was written.
LOST_DATABASE = (OperationalError, InterfaceError)


class Batch:
    """Events received and not yet written, with their delivery tags."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.tags: list[int] = []
        self.started = 0.0

    def add(self, event: dict, tag: int) -> None:
        if not self.events:
            self.started = time.monotonic()
        self.events.append(event)
        self.tags.append(tag)

    def due(self) -> bool:
        return len(self.events) >= BATCH or (
            bool(self.events) and time.monotonic() - self.started >= FLUSH_SECONDS
        )


def declare(channel: BlockingChannel) -> None:
    """The clicks queue (jobqueue's arguments) and its dead-letter queue."""
    clicks.declare(channel)
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    dead = dead_letter_queue(CLICKS_QUEUE)
    channel.queue_declare(dead, durable=True, arguments=DEAD_LETTER_QUEUE_ARGUMENTS)
    channel.queue_bind(dead, DEAD_LETTER_EXCHANGE, routing_key=dead)


def store(events: list[dict], channel: BlockingChannel) -> int:
    """Commit events in one statement; return how many were new.

    While the database is away, retry with back-off: the messages stay unacknowledged
    in RabbitMQ meanwhile, safe if this process dies. Any other DatabaseError (the
    database refused the events) is raised.
    """
    backoff = 0.5
    while True:
        try:
            with transaction.atomic():
                return clicks.store(events)
        except LOST_DATABASE as exc:
            log.warning("cannot write %d clicks (%s); retrying in %.1fs", len(events), exc, backoff)
            connection.close()
            HEARTBEAT_FILE.touch()
            channel.connection.sleep(backoff)  # keeps the AMQP connection serviced
            backoff = min(backoff * 2, 10)


def write(batch: Batch, channel: BlockingChannel) -> None:
    """Commit the batch, then acknowledge every message in it with one ack.

    A batch the database refuses is written again one event at a time: each event it
    refuses on its own is rejected (RabbitMQ dead-letters it), the others are stored
    and acknowledged. One bad event costs its batch a slower write, and loses nothing else.
    """
    try:
        new = store(batch.events, channel)
        stored = batch.tags
    except DatabaseError as exc:
        log.warning(
            "a batch of %d clicks was refused (%s); writing it one event at a time", len(batch.events), exc
        )
        new, stored = 0, []
        for event, tag in zip(batch.events, batch.tags, strict=True):
            try:
                new += store([event], channel)
            except DatabaseError as refused:
                log.error(
                    "click event %s refused, sent to the dead-letter queue: %s", event["event_id"], refused
                )
                channel.basic_reject(tag, requeue=False)
            else:
                stored.append(tag)
    if stored:
        # Every tag up to the newest stored one is either in this batch or already settled.
        channel.basic_ack(stored[-1], multiple=True)
    log.info("stored %d clicks (%d already stored)", new, len(stored) - new)


def consume(stop: list[bool]) -> None:
    parameters = pika.URLParameters(settings.BROKER_URL)
    parameters.heartbeat = 30
    amqp = pika.BlockingConnection(parameters)
    channel = amqp.channel()
    declare(channel)
    # Room for a whole batch, and the next one arriving while it is written.
    channel.basic_qos(prefetch_count=BATCH * 2)
    batch = Batch()
    log.info("consuming %s in batches of up to %d", CLICKS_QUEUE, BATCH)
    try:
        for method, _properties, body in channel.consume(CLICKS_QUEUE, inactivity_timeout=FLUSH_SECONDS / 2):
            HEARTBEAT_FILE.touch()
            if method is not None:
                try:
                    batch.add(clicks.parse(body), method.delivery_tag)
                except clicks.InvalidEvent as exc:
                    log.error("not a click event, sent to the dead-letter queue: %s", exc)
                    channel.basic_reject(method.delivery_tag, requeue=False)
            if batch.due() or (stop[0] and batch.events):
                write(batch, channel)
                batch = Batch()
            if stop[0]:
                break
    finally:
        if amqp.is_open:
            amqp.close()  # unacknowledged messages go back to the queue


class Command(BaseCommand):
    help = "Write the click stream to Postgres in batches (the click-consumer service)."

    def handle(self, *args: Any, **options: Any) -> None:
        stop = [False]

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop[0] = True

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        while not stop[0]:
            HEARTBEAT_FILE.touch()
            try:
                consume(stop)
            except pika.exceptions.AMQPError as exc:  # the broker restarted or went away
                log.warning("RabbitMQ connection lost (%r); reconnecting in 2s", exc)
                time.sleep(2)
        log.info("stopped")
