"""The transactional outbox: a change and the message announcing it commit together.

`enqueue` writes the message into Postgres inside the caller's transaction, so a
story is never saved without its fan-out message, nor the other way round, and
the request does not wait for (or depend on) RabbitMQ. The relay
(`manage.py relay`) publishes waiting messages with publisher confirms and deletes
them. A relay that dies between the two publishes a message twice: consumers are
idempotent, so that has one effect.
https://microservices.io/patterns/data/transactional-outbox.html
"""

import logging
from typing import Any

from celery import Celery
from django.db import connection, transaction
from django.db.models import Count, F, Min
from django.utils import timezone

from jobs.models import OutboxMessage

log = logging.getLogger(__name__)

# Postgres NOTIFY channel: delivered when the enqueuing transaction commits, it
# wakes the relay at once instead of at its next poll.
CHANNEL = "outbox"


def enqueue(task: str, **kwargs: Any) -> None:
    """Publish the Celery task `task` once the current transaction commits."""
    OutboxMessage.objects.create(task=task, kwargs=kwargs)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])


def relay_batch(app: Celery, limit: int = 100) -> int:
    """Publish up to `limit` waiting messages, oldest first, and delete them.

    Returns how many were published. When the broker fails, the messages published
    before the failure are deleted all the same, the error is recorded on the one
    that failed, and the error is raised. Rows are claimed with SKIP LOCKED, so
    several relays never publish the same row at the same time.
    """
    error: Exception | None = None
    with transaction.atomic():
        batch = list(OutboxMessage.objects.select_for_update(skip_locked=True).order_by("id")[:limit])
        published: list[int] = []
        for message in batch:
            try:
                # retry=False: a broker outage is the relay's back-off to handle, not this call's.
                app.send_task(
                    message.task, kwargs=message.kwargs, task_id=f"outbox-{message.pk}", retry=False
                )
            except Exception as exc:  # whatever the broker raised: keep the message, say why
                error = exc
                OutboxMessage.objects.filter(pk=message.pk).update(
                    attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:1000]
                )
                break
            published.append(message.pk)
        OutboxMessage.objects.filter(pk__in=published).delete()
    if error is not None:
        raise error
    return len(published)


def backlog() -> dict:
    """How many messages wait, and for how long the oldest has: the relay's lag."""
    waiting = OutboxMessage.objects.aggregate(count=Count("id"), oldest=Min("created_at"))
    oldest = waiting["oldest"]
    return {
        "waiting": waiting["count"],
        "oldest_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0.0,
    }
