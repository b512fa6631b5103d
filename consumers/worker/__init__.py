"""Celery consumers: the off-line half of the platform (the article's queue consumers).

They share the platform's Django models and its message contract (jobqueue).
"""

import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_layer.settings")
django.setup()

# Django must be set up before the tasks import models.
from celery.signals import worker_init  # noqa: E402
from celery.worker.consumer import Consumer  # noqa: E402

from jobqueue import dead_letter_queues, make_app  # noqa: E402

log = logging.getLogger(__name__)


class DeadLetteringConsumer(Consumer):
    """Celery acknowledges (drops) a message it cannot decode; reject it instead, so
    RabbitMQ moves it to the dead-letter queue where someone can read it."""

    def on_decode_error(self, message, exc) -> None:
        log.error("undecodable message sent to the dead-letter queue: %s", exc)
        message.reject(requeue=False)


app = make_app()
app.conf.worker_consumer = "worker:DeadLetteringConsumer"
app.autodiscover_tasks(["worker"], related_name="tasks", force=True)


@worker_init.connect
def declare_dead_letter_queues(**_) -> None:
    """The dead-letter queues exist before the first message can be rejected."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=10)
        for queue in dead_letter_queues():
            queue(connection.default_channel).declare()
