"""jobqueue: the queues every side declares, as RabbitMQ treats them (the tests' own
virtual host, so that nothing reaches the live consumers)."""

import uuid

import pika
import pytest
from django.conf import settings

from jobqueue import (
    DEAD_LETTER_EXCHANGE,
    DEAD_LETTER_QUEUE_ARGUMENTS,
    DELIVERY_LIMIT,
    dead_letter_queue,
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
