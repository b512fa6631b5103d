"""jobs.tasks: what the consumers do, against the real Postgres and RabbitMQ."""

from datetime import UTC, datetime, timedelta

import pytest
import requests

from idempotency.models import KeptAnswer
from jobqueue import (
    ANALYTICS_QUEUE,
    EXPORTS_QUEUE,
    JOBS_QUEUE,
    MAPREDUCE_JOBS,
    SCHEDULES,
    slot_start,
    task_name,
)
from jobs.models import Export, JobRun
from jobs.tasks import ExportTask, expire_answers, expire_exports, fanout, heartbeat, rollup_hourly
from jobs.worker import app
from mapreduce import tasks as mapreduce_tasks  # noqa: F401  (registers the map-reduce tasks)
from mapreduce import worker as mapreduce_worker
from news.models import Click, ReferrerVisits, Story, User

pytestmark = pytest.mark.django_db


def test_a_heartbeat_is_recorded_once_even_when_delivered_twice():
    assert heartbeat("2026-01-01T00:00:00Z", published_by="cron-test") is True
    assert heartbeat("2026-01-01T00:00:00Z", published_by="cron-test") is False
    assert JobRun.objects.filter(job="heartbeat").count() == 1


def test_every_job_cron_may_publish_has_a_task_on_the_consumer_of_its_queue():
    for job in SCHEDULES:
        consumer = mapreduce_worker.app if job in MAPREDUCE_JOBS else app
        assert task_name(job) in consumer.tasks, f"no consumer task for {job}"
        queue = ANALYTICS_QUEUE if job in MAPREDUCE_JOBS else JOBS_QUEUE
        assert consumer.amqp.router.route({}, task_name(job))["queue"].name == queue


def test_exports_go_to_their_own_queue_and_everything_else_of_the_platform_to_jobs():
    """The export consumer alone takes `exports`: a flood of exports never delays a fan-out."""
    assert app.amqp.router.route({}, "jobs.export")["queue"].name == EXPORTS_QUEUE
    assert app.amqp.router.route({}, "jobs.fanout")["queue"].name == JOBS_QUEUE
    assert app.amqp.router.route({}, task_name("expire-exports"))["queue"].name == JOBS_QUEUE


def test_a_rollup_runs_once_per_slot_and_counts_the_hour_before_it():
    author = User.objects.create(username="rollup_author")
    story = Story.objects.create(author=author, title="T", url="https://example.com/t")
    Click.objects.create(
        story=story, referrer_domain="lobste.rs", created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    )
    assert rollup_hourly("2026-03-01T10:00:00+00:00", published_by="cron1") is True
    assert rollup_hourly("2026-03-01T10:00:00+00:00", published_by="cron2") is False
    row = ReferrerVisits.objects.get(period="hour")
    assert (row.bucket_start, row.domain, row.visits) == (datetime(2026, 3, 1, 9, tzinfo=UTC), "lobste.rs", 1)
    assert JobRun.objects.get(job="rollup-hourly").published_by == "cron1"


def test_the_fanout_task_is_idempotent():
    author, reader = User.objects.create(username="fan_author"), User.objects.create(username="fan_reader")
    reader.following.create(followee=author)
    story = Story.objects.create(author=author, title="T", url="https://example.com/t")
    assert fanout(story.pk) == 1
    assert fanout(story.pk) == 0


def test_an_export_that_fails_for_good_says_so():
    export = Export.objects.create(user=User.objects.create(username="exporter"))
    ExportTask().on_failure(RuntimeError("boom"), "id", (), {"export_id": str(export.pk)}, None)
    export.refresh_from_db()
    assert export.status == Export.FAILED
    assert "try again" in export.error
    ExportTask().on_failure(TypeError("bad"), "id", (), {"export_id": "not a uuid"}, None)  # no crash


def test_the_jobs_queue_is_a_durable_quorum_queue_with_a_dead_letter_queue(settings):
    """Checked on the live virtual host through the RabbitMQ management API: what a reader sees in the UI."""

    def queue(name: str) -> dict:
        response = requests.get(
            f"{settings.RABBITMQ_API_URL}/queues/%2F/{name}",
            auth=(settings.RABBITMQ_MONITOR_USER, settings.RABBITMQ_MONITOR_PASSWORD),
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return response.json()

    jobs = queue(JOBS_QUEUE)
    assert (jobs["durable"], jobs["type"]) == (True, "quorum")
    assert jobs["arguments"]["x-dead-letter-exchange"] == "dead-letter"
    assert jobs["consumers"] >= 1, "the stack's consumer is attached"
    assert queue(f"{JOBS_QUEUE}.dead-letter")["type"] == "quorum"


def test_slots_are_whole_minutes_for_the_heartbeat_and_hours_for_rollups():
    now = datetime(2026, 5, 4, 3, 2, 59, 999, tzinfo=UTC)
    assert slot_start("heartbeat", now) == datetime(2026, 5, 4, 3, 2, tzinfo=UTC)
    assert slot_start("rollup-hourly", now) == datetime(2026, 5, 4, 3, tzinfo=UTC)
    assert slot_start("rollup-daily", now) == datetime(2026, 5, 4, tzinfo=UTC)
    with pytest.raises(KeyError):
        slot_start("no-such-job", now)


def test_answers_kept_for_retries_are_forgotten_after_a_day():
    slot = datetime(2026, 5, 4, 3, tzinfo=UTC)
    old = KeptAnswer.objects.create(key="old", request="x", status=201)
    recent = KeptAnswer.objects.create(key="recent", request="x", status=201)
    KeptAnswer.objects.filter(pk=old.pk).update(created_at=slot - timedelta(days=1, seconds=1))
    KeptAnswer.objects.filter(pk=recent.pk).update(created_at=slot - timedelta(hours=23))
    assert expire_answers(slot.isoformat(), published_by="cron1") is True
    assert list(KeptAnswer.objects.values_list("key", flat=True)) == ["recent"]


def test_exports_are_deleted_a_retention_after_they_finished(settings):
    settings.EXPORT_RETENTION_HOURS = 24
    slot = datetime(2026, 5, 4, 3, tzinfo=UTC)
    user = User.objects.create(username="expiring_exporter")
    old = Export.objects.create(
        user=user, status=Export.DONE, result=b"{}", finished_at=slot - timedelta(hours=25)
    )
    recent = Export.objects.create(
        user=user, status=Export.DONE, result=b"{}", finished_at=slot - timedelta(hours=23)
    )
    assert expire_exports(slot.isoformat(), published_by="cron1") is True
    assert expire_exports(slot.isoformat(), published_by="cron2") is False
    assert list(Export.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Export.objects.filter(pk=old.pk).exists()
