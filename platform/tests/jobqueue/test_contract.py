"""jobqueue: the queues every side declares, as RabbitMQ treats them (the tests' own
virtual host, so that nothing reaches the live consumers)."""

import time
import uuid

import pika
import pytest
from django.conf import settings

from jobqueue import (
    ANALYTICS_QUEUE,
    CLICKS_QUEUE,
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE_ARGUMENTS,
    DELIVERY_LIMIT,
    EXPORTS_QUEUE,
    JOBS_QUEUE,
    dead_letter_queue,
    dead_letter_queues,
    make_app,
    queue_arguments,
)


@pytest.fixture
def channel():
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        yield amqp.channel()


@pytest.fixture
def work_queue(channel) -> str:
    """A queue declared exactly as the jobs and clicks queues are, with its dead-letter queue."""
    name = f"test.{uuid.uuid4().hex[:8]}"
    channel.exchange_declare(DEAD_LETTER_EXCHANGE, exchange_type="direct", durable=True)
    channel.queue_declare(name, durable=True, arguments=queue_arguments(name))
    dead = dead_letter_queue(name)
    channel.queue_declare(dead, durable=True, arguments=DEAD_LETTER_QUEUE_ARGUMENTS)
    channel.queue_bind(dead, DEAD_LETTER_EXCHANGE, routing_key=dead)
    yield name
    channel.queue_delete(name)
    channel.queue_delete(dead)


def test_a_message_whose_consumer_keeps_dying_is_dead_lettered_after_six_deliveries(work_queue):
    """Each delivery ends as a consumer crash would end it: the connection closes with
    the message unacknowledged, and RabbitMQ takes it back. It comes back DELIVERY_LIMIT
    times; when the delivery after that fails too, it goes to the dead-letter queue
    instead, and the queue moves on."""
    params = pika.URLParameters(settings.BROKER_URL)
    with pika.BlockingConnection(params) as amqp:
        amqp.channel().basic_publish("", work_queue, b"poison", pika.BasicProperties(delivery_mode=2))
    deliveries = 0
    while deliveries <= 2 * DELIVERY_LIMIT:  # bounded: a missing limit fails, not loops
        with pika.BlockingConnection(params) as amqp:
            method, _, body = amqp.channel().basic_get(work_queue, auto_ack=False)
            if method is None:
                break
            assert body == b"poison"
            deliveries += 1
        # the connection closed without an acknowledgement: the message is returned
    assert deliveries == DELIVERY_LIMIT + 1 == 6
    with pika.BlockingConnection(params) as amqp:
        method, properties, body = amqp.channel().basic_get(dead_letter_queue(work_queue), auto_ack=True)
    assert body == b"poison", "it waits in the dead-letter queue"
    assert properties.headers["x-death"][0]["reason"] == "delivery_limit"


def test_every_work_queue_is_declared_with_its_dead_letter_queue():
    app = make_app(settings.BROKER_URL)
    celery_queues = {queue.name: queue for queue in app.conf.task_queues}
    assert set(celery_queues) == {JOBS_QUEUE, EXPORTS_QUEUE, ANALYTICS_QUEUE}
    for name, queue in celery_queues.items():
        assert queue.queue_arguments == queue_arguments(name), name
    assert {queue.name for queue in dead_letter_queues()} == {
        dead_letter_queue(name) for name in (JOBS_QUEUE, EXPORTS_QUEUE, CLICKS_QUEUE, ANALYTICS_QUEUE)
    }


def test_an_export_is_published_to_the_exports_queue_whose_rejects_are_dead_lettered(channel):
    """As the relay publishes it (the publish declares the queue), and as a consumer
    that gives up on it rejects it."""
    app = make_app(settings.BROKER_URL)
    with app.connection_for_write() as connection:
        for queue in (app.amqp.queues[EXPORTS_QUEUE], *dead_letter_queues()):
            queue(connection.default_channel).declare()
    channel.queue_purge(EXPORTS_QUEUE)
    channel.queue_purge(dead_letter_queue(EXPORTS_QUEUE))
    app.send_task("jobs.export", kwargs={"export_id": "contract-test"})
    method, properties, _ = channel.basic_get(EXPORTS_QUEUE, auto_ack=False)
    assert method is not None and properties.headers["task"] == "jobs.export"
    channel.basic_reject(method.delivery_tag, requeue=False)
    for _ in range(50):  # dead-lettering is asynchronous: up to 5 s
        method, _, _ = channel.basic_get(dead_letter_queue(EXPORTS_QUEUE), auto_ack=True)
        if method is not None:
            break
        time.sleep(0.1)
    assert method is not None, "the rejected export waits in exports.dead-letter"
