"""idempotency.middleware: a write sent again with its key happens once."""

import threading
import time

import pika
import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from idempotency.models import KeptAnswer
from jobqueue import CLICKS_QUEUE
from news import clicks, stories
from news.models import Story, User
from tests.support import acting

pytestmark = pytest.mark.django_db

STORY = {"title": "Sent twice", "url": "https://example.com/twice"}


# One sign-in per member and test, as the web tier sends the same assertion again.
signed_in: dict[int, dict[str, str]] = {}


@pytest.fixture(autouse=True)
def new_sign_ins():
    signed_in.clear()


def post_story(api: Client, member: User, key: str | None, title: str = STORY["title"]):
    headers = dict(signed_in.setdefault(member.pk, acting(member.pk)))
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return api.post("/api/v1/stories", {**STORY, "title": title}, "application/json", **headers)


def test_a_write_sent_again_with_its_key_happens_once_and_answers_the_same(api, ada):
    first = post_story(api, ada, "k-1")
    again = post_story(api, ada, "k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replay"] == "true"
    assert Story.objects.filter(author=ada, title=STORY["title"]).count() == 1


def test_without_a_key_a_write_sent_twice_happens_twice(api, ada):
    post_story(api, ada, None)
    post_story(api, ada, None)
    assert Story.objects.filter(author=ada, title=STORY["title"]).count() == 2


def test_keys_belong_to_their_caller(api, ada):
    bob = User.objects.create(username="bob")
    post_story(api, ada, "shared")
    assert post_story(api, bob, "shared").status_code == 201
    assert Story.objects.filter(title=STORY["title"]).count() == 2


def test_a_key_reused_for_another_write_is_refused(api, ada):
    post_story(api, ada, "k-2")
    reused = post_story(api, ada, "k-2", title="Something else")
    assert reused.status_code == 422
    assert "another request" in reused.json()["detail"]
    assert not Story.objects.filter(title="Something else").exists()


@pytest.mark.parametrize("key", ["", "x" * 101, "no spaces", "é"])
def test_a_malformed_key_is_a_400(api, ada, key):
    response = post_story(api, ada, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not Story.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_server_error_is_not_kept_so_the_retry_runs(api, ada, monkeypatch):
    create = stories.create_story
    calls: list[int] = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return create(*args, **kwargs)

    monkeypatch.setattr(stories, "create_story", fails_once)
    assert post_story(api, ada, "k-3").status_code == 503
    assert not KeptAnswer.objects.exists()
    assert post_story(api, ada, "k-3").status_code == 201
    assert len(calls) == 2
    assert Story.objects.filter(title=STORY["title"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_arrives_while_the_first_runs_waits_for_its_answer(ada, monkeypatch):
    """The key is unique in Postgres: the second request waits on it, then replays."""
    create = stories.create_story
    calls: list[int] = []

    def slow(*args, **kwargs):
        calls.append(1)
        time.sleep(0.5)  # the first attempt is still running when the retry comes
        return create(*args, **kwargs)

    monkeypatch.setattr(stories, "create_story", slow)
    answers: list = []

    def send() -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {settings.PLATFORM_API_TOKEN}")
        try:
            answers.append(post_story(client, ada, "k-4"))
        finally:
            connection.close()

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
        time.sleep(0.1)
    for sender in senders:
        sender.join(30)
    assert len(calls) == 1, "written once"
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert Story.objects.filter(title=STORY["title"]).count() == 1


def test_a_click_sent_again_is_counted_once(api, ada):
    """A click keeps no answer (it changes no row: platform_layer.db.rowless), so a retry
    puts its event on the stream again, under the same event id, and the consumer stores
    it once."""
    story = Story.objects.create(author=ada, title="Clicked", url="https://example.com/c")
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        channel = amqp.channel()
        clicks.declare(channel)
        channel.queue_purge(CLICKS_QUEUE)
        for _ in range(2):
            response = api.post(
                f"/api/v1/stories/{story.pk}/clicks", {}, "application/json", HTTP_IDEMPOTENCY_KEY="click-1"
            )
            assert response.json() == {"url": "https://example.com/c"}
        events = []
        while (message := channel.basic_get(CLICKS_QUEUE, auto_ack=True))[0] is not None:
            events.append(clicks.parse(message[2]))
    assert len({event["event_id"] for event in events}) == 1
    assert clicks.store(events) == 1
    assert not KeptAnswer.objects.exists()
