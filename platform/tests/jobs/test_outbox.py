"""jobs.outbox: the transactional outbox and its relay, against the real RabbitMQ."""

import pytest
from django.conf import settings

from jobqueue import make_app
from jobs import outbox
from jobs.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_the_relay_publishes_with_confirms_and_deletes_what_it_published():
    outbox.enqueue("jobs.heartbeat", slot="2026-01-01T00:00:00Z")
    outbox.enqueue("jobs.heartbeat", slot="2026-01-01T00:01:00Z")
    app = make_app(settings.BROKER_URL)
    assert outbox.relay_batch(app) == 2
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
