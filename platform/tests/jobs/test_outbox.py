"""jobs.outbox: the transactional outbox and its relay, against the real RabbitMQ."""

import json

import pika
import pytest
from django.conf import settings

from jobqueue import JOBS_QUEUE, make_app
from jobs import outbox
from jobs.models import OutboxMessage

pytestmark = pytest.mark.django_db


def queued_tasks() -> list[tuple[str, dict]]:
    """Take every message off the tests' own jobs queue: (task name, keyword arguments)."""
    found = []
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        channel = amqp.channel()
        while True:
            method, properties, body = channel.basic_get(JOBS_QUEUE, auto_ack=True)
            if method is None:
                return found
            _, kwargs, _ = json.loads(body)  # Celery's message body: [args, kwargs, embed]
            found.append((properties.headers["task"], kwargs))


def test_the_relay_publishes_with_confirms_and_deletes_what_it_published():
    app = make_app(settings.BROKER_URL)
    assert app.conf.broker_transport_options["confirm_publish"] is True, (
        "a publish returns once RabbitMQ has it"
    )
    with app.connection_for_write() as connection:  # the queue as the consumers declare it, emptied
        app.amqp.queues[JOBS_QUEUE](connection.default_channel).declare()
    queued_tasks()
    outbox.enqueue("jobs.heartbeat", slot="2026-01-01T00:00:00Z")
    outbox.enqueue("jobs.heartbeat", slot="2026-01-01T00:01:00Z")
    assert outbox.relay_batch(app) == 2
    assert queued_tasks() == [
        ("jobs.heartbeat", {"slot": "2026-01-01T00:00:00Z"}),
        ("jobs.heartbeat", {"slot": "2026-01-01T00:01:00Z"}),
    ]
    assert not OutboxMessage.objects.exists()
    assert outbox.backlog() == {"waiting": 0, "oldest_seconds": 0.0}


def test_when_the_broker_is_unreachable_the_message_waits_with_the_reason():
    outbox.enqueue("jobs.heartbeat", slot="2026-01-01T00:00:00Z")
    unreachable = make_app("amqp://guest:guest@127.0.0.1:1//")
    unreachable.conf.broker_connection_timeout = 1
    with pytest.raises(Exception):  # noqa: B017  (whatever kombu raises for a refused connection)
        outbox.relay_batch(unreachable)
    [message] = OutboxMessage.objects.all()
    assert message.attempts == 1
    assert message.last_error
    assert outbox.backlog()["waiting"] == 1
