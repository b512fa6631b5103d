"""The Celery consumers: the platform's off-line half (the article's queue consumers).

    celery --app jobs.worker worker          # the `consumer` service runs this

They run in the platform's image, on its models and its message contract
(jobqueue), as cookiecutter-django's Celery worker runs on its Django image. Celery
sets Django up itself (its Django fix-up, from DJANGO_SETTINGS_MODULE) before it
imports the tasks (jobs.tasks), which use the models.
"""

import logging
import os

from celery.signals import worker_init
from celery.worker.consumer import Consumer
from kombu.message import Message

from jobqueue import dead_letter_queues, make_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_layer.settings")

log = logging.getLogger(__name__)


class DeadLetteringConsumer(Consumer):
    """Celery acknowledges (drops) a message it cannot decode; reject it instead, so
    RabbitMQ moves it to the dead-letter queue where someone can read it."""

    def on_decode_error(self, message: Message, exc: Exception) -> None:
        log.error("undecodable message sent to the dead-letter queue: %s", exc)
        message.reject(requeue=False)


app = make_app()
app.conf.worker_consumer = "jobs.worker:DeadLetteringConsumer"
app.autodiscover_tasks(["jobs"], related_name="tasks")


@worker_init.connect
def declare_dead_letter_queues(**_: object) -> None:
    """The dead-letter queues exist before the first message can be rejected."""
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=10)
        for queue in dead_letter_queues():
            queue(connection.default_channel).declare()
