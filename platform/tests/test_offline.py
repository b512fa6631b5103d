"""The platform's half of the off-line work, against the real Postgres and RabbitMQ:
the outbox, timelines and their fan-out, the click stream, rollups, suggestions
and exports. (The consumers' half is in consumers/tests.)"""

import contextlib
import json
import socket
import uuid
from datetime import UTC, datetime, timedelta

import pika
import pytest
from django.conf import settings
from django.utils import timezone

from jobqueue import CLICKS_QUEUE, make_app
from jobs import outbox
from jobs.models import Export, OutboxMessage
from news import clicks, exports, rollups, services, suggestions, timelines
from news.models import Click, Follow, ReferrerVisits, Story, TimelineEntry, User

pytestmark = pytest.mark.django_db


def member(name: str) -> User:
    return User.objects.create(username=f"{name}_{uuid.uuid4().hex[:6]}", name=name)


def follow(follower: User, followee: User) -> None:
    Follow.objects.create(follower=follower, followee=followee)


@pytest.fixture
def author() -> User:
    return member("author")


# --- Outbox ----------------------------------------------------------------------------


def test_posting_writes_the_story_its_authors_entry_and_the_fanout_message_together(author):
    story = services.create_story(author.pk, "Inline", "https://example.com/inline", "")
    assert list(TimelineEntry.objects.filter(story_id=story["id"]).values_list("user_id", flat=True)) == [
        author.pk
    ]
    [message] = OutboxMessage.objects.all()
    assert (message.task, message.kwargs) == ("jobs.fanout", {"story_id": story["id"]})


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


# --- Timelines and fan-out -----------------------------------------------------------------


def test_fan_out_reaches_every_follower_once_in_batches_and_a_rerun_changes_nothing(author):
    followers = User.objects.bulk_create([User(username=f"f{i}_{uuid.uuid4().hex[:6]}") for i in range(25)])
    Follow.objects.bulk_create([Follow(follower=f, followee=author) for f in followers])
    story = Story.objects.create(author=author, title="Big news", url="https://example.com/big")

    assert timelines.fan_out(story.pk, batch_size=10) == 25
    assert timelines.fan_out(story.pk, batch_size=10) == 0, "a redelivered message has no second effect"
    assert set(TimelineEntry.objects.filter(story=story).values_list("user_id", flat=True)) == {
        f.pk for f in followers
    }
    progress = timelines.progress(story.pk)
    assert (progress["delivered"], progress["followers"]) == (25, 25)
    assert progress["finished_at"] is not None


def test_fan_out_of_a_story_deleted_meanwhile_does_nothing(author):
    follow(member("reader"), author)
    story = Story.objects.create(author=author, title="Gone", url="https://example.com/gone")
    story_id = story.pk
    story.delete()
    assert timelines.fan_out(story_id) == 0


def test_a_follow_backfills_the_timeline_and_an_unfollow_empties_it(author, api):
    reader = member("reader")
    Story.objects.bulk_create(
        [Story(author=author, title=f"Old {i}", url=f"https://example.com/{i}") for i in range(3)]
    )
    services.follow(reader.pk, author.pk)
    body = api.get(f"/api/v1/users/{reader.pk}/timeline", HTTP_X_ACTING_USER=str(reader.pk)).json()
    assert len(body["items"]) == 3
    services.unfollow(reader.pk, author.pk)
    assert not TimelineEntry.objects.filter(user=reader).exists()


def test_the_fanout_endpoint_reports_progress(api, author):
    follow(member("reader"), author)
    story = services.create_story(author.pk, "Progress", "https://example.com/p", "")
    running = api.get(f"/api/v1/stories/{story['id']}/fanout").json()
    assert running == {"delivered": 0, "followers": 1, "finished_at": None}
    timelines.fan_out(story["id"])
    finished = api.get(f"/api/v1/stories/{story['id']}/fanout").json()
    assert (finished["delivered"], finished["followers"]) == (1, 1)
    assert finished["finished_at"]
    assert api.get("/api/v1/stories/999999999/fanout").status_code == 404


# --- The click stream ----------------------------------------------------------------------


def click_body(**changes) -> bytes:
    event = {
        "event_id": str(uuid.uuid4()),
        "story_id": 1,
        "user_id": None,
        "referrer_domain": "lobste.rs",
        "at": "2026-11-28T10:00:00+00:00",
    }
    return json.dumps({**event, **changes}).encode()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        click_body(event_id="nope"),
        click_body(story_id="1"),
        click_body(story_id=0),
        click_body(user_id=1.5),
        click_body(referrer_domain="x" * 254),
        click_body(referrer_domain="evil\x00"),
        click_body(at="yesterday"),
        click_body(at="2026-11-28T10:00:00"),
        json.dumps({"story_id": 1}).encode(),
    ],
)
def test_a_message_that_is_not_a_click_event_is_refused(body):
    with pytest.raises(clicks.InvalidEvent):
        clicks.parse(body)


def test_clicks_are_stored_once_per_event_and_dropped_for_deleted_stories(author):
    story = Story.objects.create(author=author, title="Clicked", url="https://example.com/c")
    gone = Story.objects.create(author=author, title="Gone", url="https://example.com/g")
    gone_id = gone.pk
    gone.delete()
    events = [
        clicks.parse(click_body(story_id=story.pk, user_id=author.pk)),
        clicks.parse(click_body(story_id=story.pk, user_id=999_999_999)),  # a member deleted meanwhile
        clicks.parse(click_body(story_id=gone_id)),
    ]
    assert clicks.store(events) == 2
    assert clicks.store(events) == 0, "a redelivered batch stores nothing twice"
    assert sorted(Click.objects.filter(story=story).values_list("user_id", flat=True), key=str) == [
        author.pk,
        None,
    ]


def test_a_click_goes_on_the_stream_with_confirms():
    """Published to the tests' own RabbitMQ virtual host and read back from its queue."""
    with pika.BlockingConnection(pika.URLParameters(settings.BROKER_URL)) as amqp:
        channel = amqp.channel()
        clicks.declare(channel)
        channel.queue_purge(CLICKS_QUEUE)
        clicks.record(story_id=42, user_id=None, referrer_domain="example.org")
        method, properties, body = channel.basic_get(CLICKS_QUEUE, auto_ack=True)
    assert method is not None, "the event is on the queue"
    event = clicks.parse(body)
    assert (event["story_id"], event["referrer_domain"]) == (42, "example.org")
    assert properties.delivery_mode == 2, "persistent"
    assert not Click.objects.exists(), "nothing written inline while the broker takes events"


def test_when_the_broker_is_down_a_click_is_written_inline(author):
    story = Story.objects.create(author=author, title="Down", url="https://example.com/down")
    dead = clicks.Publisher("amqp://guest:guest@127.0.0.1:1/%2F", timeout=0.5)
    assert dead.publish(clicks.event(story.pk, None, "")) is False
    clicks.publisher, live = dead, clicks.publisher
    try:
        clicks.record(story.pk, None, "duckduckgo.com")
    finally:
        clicks.publisher = live
    assert Click.objects.filter(story=story, referrer_domain="duckduckgo.com").count() == 1


def test_a_broker_that_accepts_but_never_answers_is_tried_once_then_clicks_go_inline(author):
    """A paused RabbitMQ: TCP connects, the AMQP handshake never completes. The click
    is written inline; the broker is tried once, then skipped for the cooldown."""
    story = Story.objects.create(author=author, title="Paused", url="https://example.com/paused")
    with socket.create_server(("127.0.0.1", 0)) as silent:
        stuck = clicks.Publisher(f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}/%2F", timeout=0.5)
        clicks.publisher, live = stuck, clicks.publisher
        try:
            clicks.record(story.pk, None, "paused.example")
            clicks.record(story.pk, None, "paused.example")
        finally:
            clicks.publisher = live
        silent.setblocking(False)
        attempts = 0
        with contextlib.suppress(BlockingIOError):
            while silent.accept():
                attempts += 1
    assert Click.objects.filter(story=story, referrer_domain="paused.example").count() == 2
    assert attempts == 1


# --- Rollups -------------------------------------------------------------------------------


def test_a_rollup_counts_visits_per_domain_and_a_rerun_gives_the_same_rows(author):
    story = Story.objects.create(author=author, title="Counted", url="https://example.com/n")
    hour = datetime(2026, 11, 27, 9, tzinfo=UTC)
    for minute, domain in [(1, "lobste.rs"), (2, "lobste.rs"), (3, ""), (59, "duckduckgo.com")]:
        Click.objects.create(story=story, referrer_domain=domain, created_at=hour + timedelta(minutes=minute))
    Click.objects.create(story=story, referrer_domain="lobste.rs", created_at=hour + timedelta(hours=1))

    for _ in range(2):
        assert rollups.roll_up(ReferrerVisits.HOUR, hour) == 3
    rows = ReferrerVisits.objects.filter(period="hour", bucket_start=hour)
    assert dict(rows.values_list("domain", "visits")) == {"lobste.rs": 2, "": 1, "duckduckgo.com": 1}
    rollups.roll_up(ReferrerVisits.DAY, datetime(2026, 11, 27, tzinfo=UTC))
    assert ReferrerVisits.objects.get(period="day", domain="lobste.rs").visits == 3


def test_the_report_shows_yesterday_and_the_last_day_of_hours(api):
    now = timezone.now()
    yesterday = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    last_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    ReferrerVisits.objects.create(period="day", bucket_start=yesterday, domain="lobste.rs", visits=7)
    ReferrerVisits.objects.create(period="hour", bucket_start=last_hour, domain="", visits=3)
    body = api.get("/api/v1/analytics/referrers").json()
    assert body["day"]["domains"] == [{"domain": "lobste.rs", "visits": 7}]
    assert body["hours"][-1]["domains"] == [{"domain": "", "visits": 3}]


# --- Suggestions ---------------------------------------------------------------------------


def test_suggestions_come_from_followees_clicks_then_the_weeks_most_clicked(api, author):
    reader, friend = member("reader"), member("friend")
    follow(reader, friend)
    stories = [
        Story.objects.create(author=author, title=f"S{i}", url=f"https://example.com/{i}") for i in range(4)
    ]
    own = Story.objects.create(author=reader, title="Mine", url="https://example.com/mine")
    for story in (stories[0], stories[1], stories[1], own):
        Click.objects.create(story=story, user=friend)
    Click.objects.create(story=stories[0], user=reader)  # already read: not suggested
    for _ in range(3):
        Click.objects.create(story=stories[3])  # popular with everyone

    suggestions.refresh([reader.pk])
    body = api.get(f"/api/v1/users/{reader.pk}/suggestions", HTTP_X_ACTING_USER=str(reader.pk)).json()
    assert [item["id"] for item in body["items"]] == [stories[1].pk, stories[3].pk]
    assert body["computed_at"]
    assert (
        api.get(f"/api/v1/users/{reader.pk}/suggestions", HTTP_X_ACTING_USER=str(friend.pk)).status_code
        == 403
    )


# --- Exports: schedule, then poll ------------------------------------------------------------


def test_an_export_is_accepted_at_once_then_built_and_downloaded(api, author):
    Story.objects.create(author=author, title="Exported", url="https://example.com/e")
    acting = {"HTTP_X_ACTING_USER": str(author.pk)}
    response = api.post(f"/api/v1/users/{author.pk}/exports", **acting)
    assert response.status_code == 202
    job = response.json()
    assert (job["status"], job["progress"]) == ("queued", 0)
    assert OutboxMessage.objects.get(task="jobs.export").kwargs == {"export_id": job["id"]}
    assert api.get(f"/api/v1/exports/{job['id']}/download", **acting).status_code == 409

    assert exports.build(job["id"]) is True
    assert exports.build(job["id"]) is False, "a redelivered message finds the work done"
    assert api.get(f"/api/v1/exports/{job['id']}", **acting).json()["status"] == "done"
    download = api.get(f"/api/v1/exports/{job['id']}/download", **acting)
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    document = json.loads(download.content)
    assert document["member"]["username"] == author.username
    assert [story["title"] for story in document["stories"]] == ["Exported"]


def test_another_members_export_is_not_found(api, author):
    export = Export.objects.create(user=author)
    other = member("other")
    response = api.get(f"/api/v1/exports/{export.pk}", HTTP_X_ACTING_USER=str(other.pk))
    assert response.status_code == 404
    assert api.post(f"/api/v1/users/{author.pk}/exports", HTTP_X_ACTING_USER=str(other.pk)).status_code == 403
    assert api.get("/api/v1/exports/not-a-uuid", HTTP_X_ACTING_USER=str(other.pk)).status_code == 404
