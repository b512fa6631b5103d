"""Consumer tests, inside the consumer image, against the real Postgres and RabbitMQ."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests

from jobqueue import JOBS_QUEUE, slot_start
from jobs.models import JobRun
from worker.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_a_heartbeat_is_recorded_once_even_when_delivered_twice():
    assert heartbeat("2026-01-01T00:00:00Z", published_by="cron-test") is True
    assert heartbeat("2026-01-01T00:00:00Z", published_by="cron-test") is False
    assert JobRun.objects.filter(job="heartbeat").count() == 1


def test_the_jobs_queue_is_a_durable_quorum_queue_with_a_consumer(settings):
    """Checked through the RabbitMQ management API: what a reader sees in the UI."""
    broker = urlsplit(settings.BROKER_URL)
    response = requests.get(
        f"{settings.RABBITMQ_API_URL}/queues/%2F/{JOBS_QUEUE}",
        auth=(broker.username, broker.password),
        timeout=5,
    )
    assert response.status_code == 200, response.text
    queue = response.json()
    assert queue["durable"] is True
    assert queue["type"] == "quorum"
    assert queue["consumers"] >= 1, "the stack's consumer is attached"


def test_slots_are_whole_minutes_for_the_heartbeat():
    now = datetime(2026, 5, 4, 3, 2, 59, 999, tzinfo=UTC)
    assert slot_start("heartbeat", now) == datetime(2026, 5, 4, 3, 2, tzinfo=UTC)
    with pytest.raises(KeyError):
        slot_start("no-such-job", now)
