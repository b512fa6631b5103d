"""The message contract between the publishers (cron, the platform's outbox relay and
click publisher) and the consumers.

Every side declares queues from here, so declarations always match: RabbitMQ refuses
a second declaration of a queue with other arguments.
https://docs.celeryq.dev/en/stable/userguide/configuration.html
https://www.rabbitmq.com/docs/quorum-queues
"""

import os
from datetime import UTC, datetime, timedelta

from celery import Celery
from kombu import Exchange, Queue

JOBS_QUEUE = "jobs"  # Celery tasks: fan-out, cron's periodic jobs
# Members' data exports, on a queue and a consumer of their own: however many members
# ask at once, the fan-out and cron's jobs on `jobs` never wait behind them.
EXPORTS_QUEUE = "exports"
CLICKS_QUEUE = "clicks"  # the click stream: plain JSON events, published and consumed with pika
ANALYTICS_QUEUE = "analytics"  # map-reduce jobs on Spark: consumed by the analytics profile's driver
DEAD_LETTER_EXCHANGE = "dead-letter"
# How many times a message may come back unacknowledged (a consumer crashed on it, or
# returned it for a retry) and still be delivered again: the delivery after that is
# its last, and if that fails too, it is dead-lettered. Six deliveries in all
# (RabbitMQ's x-delivery-limit; tests/jobqueue/test_contract.py shows it).
DELIVERY_LIMIT = 5


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead-letter"


def queue_arguments(queue: str) -> dict:
    """Durable quorum queue whose poison messages go to `<queue>.dead-letter`.

    Quorum queues are replicated and, with RabbitMQ 4, safe for Celery (no global
    QoS: Celery detects the queue type and uses per-consumer prefetch).
    """
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
        "x-dead-letter-routing-key": dead_letter_queue(queue),
        # Dead-letter with confirms, so a dead letter cannot be lost on its way
        # (RabbitMQ requires reject-publish overflow for this strategy).
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


# A dead-letter queue is a plain quorum queue. Every declaration uses these arguments:
# RabbitMQ refuses to declare a queue again with different ones.
DEAD_LETTER_QUEUE_ARGUMENTS = {"x-queue-type": "quorum"}


def dead_letter_queues() -> list[Queue]:
    """Where rejected and over-delivered messages wait, visible in the RabbitMQ UI."""
    exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)
    return [
        Queue(
            dead_letter_queue(queue),
            exchange,
            routing_key=dead_letter_queue(queue),
            queue_arguments=DEAD_LETTER_QUEUE_ARGUMENTS,
        )
        for queue in (JOBS_QUEUE, EXPORTS_QUEUE, CLICKS_QUEUE, ANALYTICS_QUEUE)
    ]


# Every periodic job cron may publish, with the length of its schedule slot. The
# slot's start is the run's identity: consumers do each (job, slot) once.
SCHEDULES: dict[str, timedelta] = {
    "heartbeat": timedelta(minutes=1),
    "rollup-hourly": timedelta(hours=1),
    "rollup-daily": timedelta(days=1),
    "refresh-suggestions": timedelta(hours=1),
    "purge-stories": timedelta(days=1),
    "expire-answers": timedelta(hours=1),
    "expire-exports": timedelta(hours=1),
    # Map-reduce on Spark (platform/mapreduce): consumed only where the analytics profile runs.
    "people-you-may-know": timedelta(hours=1),
    "click-history": timedelta(days=1),
}
MAPREDUCE_JOBS = ("people-you-may-know", "click-history")


def task_name(job: str) -> str:
    """The Celery task that does a scheduled job: rollup-hourly -> jobs.rollup_hourly,
    people-you-may-know -> analytics.people_you_may_know."""
    family = "analytics" if job in MAPREDUCE_JOBS else "jobs"
    return f"{family}.{job.replace('-', '_')}"


def _queue(name: str) -> Queue:
    return Queue(
        name,
        # A topic exchange: Celery's native delayed delivery (retry back-off on
        # quorum queues) works with topic exchanges only.
        Exchange(name, type="topic"),
        routing_key=name,
        queue_arguments=queue_arguments(name),
    )


def make_app(broker_url: str | None = None) -> Celery:
    app = Celery("scale", broker=broker_url or os.environ["BROKER_URL"])
    app.conf.update(
        # Each consumer takes its own queue (`--queues`): a map-reduce job waits for
        # the analytics profile's driver, and an export for the export consumer, never
        # for a slot of the platform's consumer; nor does the fan-out wait for them.
        task_queues=[_queue(JOBS_QUEUE), _queue(EXPORTS_QUEUE), _queue(ANALYTICS_QUEUE)],
        task_routes={"analytics.*": {"queue": ANALYTICS_QUEUE}, "jobs.export": {"queue": EXPORTS_QUEUE}},
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
        # A task that fails for good is rejected, not acknowledged: RabbitMQ moves it
        # to the dead-letter queue, where it can be read and replayed.
        task_acks_on_failure_or_timeout=False,
        worker_prefetch_multiplier=1,
        # Results live in Postgres (jobs.JobRun, jobs.Export), not in a result backend.
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
