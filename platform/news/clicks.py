"""The click stream: every click through to a story is an event on RabbitMQ's `clicks`
queue, published with pika and publisher confirms; a consumer
(`manage.py consume_clicks`, the click-consumer service) writes them to Postgres in batches.

Each event carries its own id, and `news_click.event_id` is unique, so an event
published twice (a lost confirm) or delivered twice (a consumer crash) is stored
once. When RabbitMQ cannot take the event, the click is written to Postgres
inline instead: slower, never lost.

A visitor's clicks on one story count once per CLICK_DEDUP_SECONDS (`Dedup`): a
flood of clicks, or a forged Referer sent again and again, puts one event on the
stream, so it can skew neither the analytics nor the suggestions, nor grow the
clicks table by more than a row per visitor, story and window.
"""

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pika
import pika.exceptions
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from jobqueue import CLICKS_QUEUE, queue_arguments
from news.cache import cache
from platform_layer.dns import resolve

log = logging.getLogger(__name__)

MAX_DOMAIN = 253  # news_click.referrer_domain


def declare(channel: pika.adapters.blocking_connection.BlockingChannel) -> None:
    """The clicks queue, as every side declares it (jobqueue)."""
    channel.queue_declare(CLICKS_QUEUE, durable=True, arguments=queue_arguments(CLICKS_QUEUE))


class Publisher:
    """One confirmed channel per process, owned by one sender thread.

    pika's BlockingConnection is not thread-safe, so a single thread does every
    publish, and a request thread waits for its result (RabbitMQ's confirm, about a
    millisecond on one host) for at most `timeout` seconds. A broker that is dead,
    or stuck (paused: it accepts TCP, then never answers), is then skipped for
    `cooldown` seconds: it costs one request per process its timeout every
    `cooldown` seconds, and meanwhile clicks are written inline. A publish that gives
    up may still be confirmed later; the click, written inline too, is stored once
    (its event id is unique).
    """

    def __init__(self, url: str, timeout: float = 1.0, cooldown: float = 5.0) -> None:
        self.parameters = pika.URLParameters(url)
        self.parameters.socket_timeout = timeout
        self.parameters.stack_timeout = timeout  # the whole connection, handshake included
        self.parameters.connection_attempts = 1
        # Frees the sender thread from a broker that stopped answering mid-publish.
        self.parameters.heartbeat = 5
        self.timeout = timeout
        self.cooldown = cooldown
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="click-publisher")
        self._connection: pika.BlockingConnection | None = None
        self._channel: Any = None  # pika's BlockingChannel, once connected
        self._skip_until = 0.0

    def publish(self, event: dict[str, Any]) -> bool:
        """Publish one event; True once RabbitMQ confirmed it, False when it could not."""
        if time.monotonic() < self._skip_until:
            return False
        sending = self._sender.submit(self._send, json.dumps(event).encode(), event["event_id"])
        try:
            sent = sending.result(timeout=2 * self.timeout)  # connecting, then publishing
        except TimeoutError:
            sent, reason = False, f"no confirm within {2 * self.timeout:.0f}s"
        else:
            reason = "see the error above"
        if not sent:
            self._skip_until = time.monotonic() + self.cooldown
            log.warning(
                "click stream unavailable for %.0fs (%s); writing clicks inline", self.cooldown, reason
            )
        return sent

    def _send(self, body: bytes, event_id: str) -> bool:
        """In the sender thread."""
        for attempt in (1, 2):  # a connection closed while idle gets one fresh retry
            fresh = self._connection is None or not self._connection.is_open
            try:
                self._open()
                self._channel.basic_publish(
                    exchange="",
                    routing_key=CLICKS_QUEUE,
                    body=body,
                    properties=pika.BasicProperties(
                        content_type="application/json",
                        delivery_mode=pika.DeliveryMode.Persistent,
                        message_id=event_id,
                    ),
                    mandatory=True,
                )
                return True
            # AMQPConnectorException: raised while connecting, for example to a broker that
            # accepts TCP but never answers the handshake (paused); not an AMQPError.
            except (pika.exceptions.AMQPError, AMQPConnectorException, OSError) as exc:
                self._close()
                if fresh or attempt == 2:  # a new connection failed: no point in another
                    log.warning("could not publish a click: %r", exc)
                    return False
        return False

    def _open(self) -> None:
        if self._connection is not None and self._connection.is_open:
            return
        resolve(self.parameters.host, self.parameters.port, self.timeout)  # a deadline on the lookup too
        self._connection = pika.BlockingConnection(self.parameters)
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()
        declare(self._channel)

    def _close(self) -> None:
        try:
            if self._connection is not None and self._connection.is_open:
                self._connection.close()
        except Exception:  # closing a broken connection may fail too; it is dropped either way
            pass
        self._connection = self._channel = None


publisher = Publisher(settings.BROKER_URL)


def event(
    story_id: int, user_id: int | None, referrer_domain: str, event_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """A click event; its id is new unless given (a retried write's, so it counts once)."""
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "story_id": story_id,
        "user_id": user_id,
        "referrer_domain": referrer_domain,
        "at": timezone.now().isoformat(),
    }


class Dedup:
    """A visitor's clicks on a story count once per window, whichever platform node takes them.

    The first click of a window claims `click.<story>.<visitor>` in the cache Redis
    with SET NX and the window as its expiry, holding the click's event id. A click
    that finds the key taken is a repeat and is not counted, unless it holds the same
    event id: that is the same click sent again (a retry with its idempotency key),
    and it counts, once, since the event id is unique in Postgres.

    Redis rather than Postgres: every request already asks it, a repeat then costs one
    round trip and nothing downstream (no message, no row), and its expiry makes the
    window slide from the counted click rather than jump at fixed boundaries. What the
    key protects is a count, not data: when Redis is down, or has evicted the key
    (allkeys-lru), the click counts, and a Redis error skips the check for `cooldown`
    seconds, as the cache does, so that a dead Redis costs one timeout per process.
    """

    def __init__(self, client: redis.Redis, window: int, cooldown: float = 2.0) -> None:
        self.client = client
        self.window = window
        self.cooldown = cooldown
        self._skip_until = 0.0

    def first(self, story_id: int, visitor: str | None, event_id: str) -> bool:
        """Whether this click counts: the visitor's first on the story in the window
        (or the same click again). Always True for a visitor nobody named."""
        if visitor is None or self.window <= 0 or time.monotonic() < self._skip_until:
            return True
        try:
            holder = self.client.set(
                f"click.{story_id}.{visitor}", event_id, nx=True, ex=self.window, get=True
            )
        except redis.RedisError as exc:
            self._skip_until = time.monotonic() + self.cooldown
            log.warning(
                "click deduplication unavailable for %.0fs (%s): every click counts", self.cooldown, exc
            )
            return True
        return holder is None or holder == event_id.encode()


dedup = Dedup(cache.client, settings.CLICK_DEDUP_SECONDS)


def visitor_key(user_id: int | None, visitor: str) -> str | None:
    """Who clicked: the member when one acts, else the visitor the product named (the
    web tier: a keyed hash of the address the edge saw), else nobody known."""
    if user_id is not None:
        return f"member.{user_id}"
    return f"visitor.{visitor}" if visitor else None


def record(
    story_id: int,
    user_id: int | None,
    referrer_domain: str,
    event_id: uuid.UUID | None = None,
    visitor: str = "",
) -> bool:
    """Put a click on the stream (if RabbitMQ cannot take it, store it now), unless the
    same visitor clicked the same story within CLICK_DEDUP_SECONDS. True when it counts."""
    click = event(story_id, user_id, referrer_domain, event_id)
    if not dedup.first(story_id, visitor_key(user_id, visitor), click["event_id"]):
        return False
    if not publisher.publish(click):
        store([click])
    return True


class InvalidEvent(ValueError):
    """A message on the clicks queue that is not a click event: it goes to the dead-letter queue."""


def parse(body: bytes) -> dict[str, Any]:
    """A click event from a message body, checked field by field."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    try:
        event_id = str(uuid.UUID(str(data["event_id"])))
        story_id, user_id = data["story_id"], data.get("user_id")
        domain, at = data["referrer_domain"], datetime.fromisoformat(data["at"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidEvent(f"missing or malformed field: {exc!r}") from None
    if type(story_id) is not int or story_id < 1 or not (user_id is None or type(user_id) is int):
        raise InvalidEvent("story_id must be a positive integer and user_id an integer or null")
    if not isinstance(domain, str) or len(domain) > MAX_DOMAIN or not domain.isprintable():
        raise InvalidEvent("referrer_domain must be a printable string of at most 253 characters")
    if at.tzinfo is None:
        raise InvalidEvent("at must carry a time zone")
    return {
        "event_id": event_id,
        "story_id": story_id,
        "user_id": user_id,
        "referrer_domain": domain,
        "at": at,
    }


def store(events: list[dict[str, Any]]) -> int:
    """Insert click events in one statement; return how many were new.

    Events already stored (by id) are skipped. Clicks on stories deleted meanwhile
    are dropped, and members deleted meanwhile become anonymous, as the foreign
    keys would have it.
    """
    if not events:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO news_click (event_id, story_id, user_id, referrer_domain, created_at)
            SELECT e.event_id, e.story_id, u.id, e.referrer_domain, e.created_at
            FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::text[], %s::timestamptz[])
                 AS e(event_id, story_id, user_id, referrer_domain, created_at)
            JOIN news_story s ON s.id = e.story_id
            LEFT JOIN news_user u ON u.id = e.user_id
            ON CONFLICT (event_id) DO NOTHING
            """,
            [
                [e["event_id"] for e in events],
                [e["story_id"] for e in events],
                [e["user_id"] for e in events],
                [e["referrer_domain"] for e in events],
                [e["at"] for e in events],
            ],
        )
        return cursor.rowcount
