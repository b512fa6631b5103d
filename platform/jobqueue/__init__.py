"""The message contract between the publishers (cron, the platform) and the consumers.

Both sides build their Celery app here, so queue declarations always match:
RabbitMQ refuses a second declaration of a queue with other arguments.
https://docs.celeryq.dev/en/stable/userguide/configuration.html
"""

import os
from datetime import UTC, datetime, timedelta

from celery import Celery
from kombu import Exchange, Queue

JOBS_QUEUE = "jobs"

# Every periodic job cron may publish, with the length of its schedule slot.
SCHEDULES: dict[str, timedelta] = {
    "heartbeat": timedelta(minutes=1),
}


def make_app(broker_url: str | None = None) -> Celery:
    app = Celery("scale", broker=broker_url or os.environ["BROKER_URL"])
    app.conf.update(
        # Quorum queue: replicated, durable, and safe with RabbitMQ 4 (no global QoS;
        # Celery detects the queue type and uses per-consumer prefetch).
        task_queues=[
            Queue(
                JOBS_QUEUE,
                Exchange(JOBS_QUEUE, type="direct"),
                routing_key=JOBS_QUEUE,
                queue_arguments={"x-queue-type": "quorum"},
            )
        ],
        task_default_queue=JOBS_QUEUE,
        task_default_exchange=JOBS_QUEUE,
        task_default_routing_key=JOBS_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        # Publisher confirms: send_task returns only once RabbitMQ has the message.
        broker_transport_options={"confirm_publish": True},
        # Acknowledge after the work is committed; a consumer killed mid-task gets it redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Results live in Postgres (jobs.JobRun), not in a result backend.
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
    )
    return app


def slot_start(job: str, now: datetime | None = None) -> datetime:
    """The start of the schedule slot `now` falls in: the identity of one scheduled run."""
    if job not in SCHEDULES:
        raise KeyError(job)
    now = now or datetime.now(UTC)
    period = SCHEDULES[job]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((now - epoch) // period) * period
