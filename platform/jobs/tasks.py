"""The jobs the consumers run. Each is idempotent: a redelivered message has one effect.

Errors of the database connection (Postgres restarting, say) are retried with
back-off, a bounded number of times; any other failure, or running out of retries,
rejects the message, and RabbitMQ moves it to the `jobs.dead-letter` queue.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery import Task
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from idempotency.models import KEEP_FOR, KeptAnswer
from jobqueue import task_name
from jobs.models import JobRun
from jobs.worker import app
from news import exports, rollups, stories, suggestions, timelines
from news.models import ReferrerVisits

log = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
}


# --- Work the platform asks for (through its outbox) --------------------------------------


@app.task(name="jobs.fanout", **RETRY)
def fanout(story_id: int) -> int:
    """Write a new story into its author's followers' timelines, in batches."""
    return timelines.fan_out(story_id)


class ExportTask(app.Task):
    def on_failure(
        self, exc: Exception, task_id: str, args: tuple, kwargs: dict[str, Any], einfo: object
    ) -> None:
        """Failed for good: the member's page says so instead of waiting forever."""
        exports.fail(kwargs.get("export_id", ""), "The export could not be built. Please try again.")


# Routed to the `exports` queue (jobqueue), which the export consumer alone takes.
@app.task(name="jobs.export", base=ExportTask, **RETRY)
def export(export_id: str) -> bool:
    """Build a member's data export (schedule, then poll)."""
    return exports.build(export_id)


# --- Periodic jobs, published by cron: one run per (job, slot) ------------------------------


def run_once(job: str, slot: str, published_by: str, work: Callable[[datetime], object]) -> bool:
    """Do a scheduled job's work for its slot, unless that slot was already done.

    The (job, slot) row and the work commit together, so a duplicate message (two
    cron containers, a redelivery) finds the row and does nothing. Returns False then.
    """
    try:
        with transaction.atomic():
            _record(job, slot, published_by)
            work(datetime.fromisoformat(slot))
    except IntegrityError:
        log.info("%s for %s already done: duplicate message ignored", job, slot)
        return False
    return True


def run_batched(job: str, slot: str, published_by: str, work: Callable[[datetime], object]) -> bool:
    """Like run_once, for long jobs that commit batch by batch so that no transaction
    holds its locks for the whole job: skip a slot already recorded, do the work, then
    record the slot. Two copies delivered at the same moment may both do the work;
    such jobs are idempotent (they recompute or delete), so that has one effect."""
    if JobRun.objects.filter(job=job, slot=slot).exists():
        log.info("%s for %s already done: duplicate message ignored", job, slot)
        return False
    work(datetime.fromisoformat(slot))
    try:
        _record(job, slot, published_by)
    except IntegrityError:
        return False
    return True


def _record(job: str, slot: str, published_by: str) -> None:
    JobRun.objects.create(job=job, slot=slot, published_by=published_by, consumed_by=settings.NODE_NAME)


def _scheduled(job: str, work: Callable[[datetime], object], batched: bool = False) -> Task:
    run = run_batched if batched else run_once

    @app.task(name=task_name(job), **RETRY)
    def task(slot: str, published_by: str = "") -> bool:
        return run(job, slot, published_by, work)

    task.__doc__ = work.__doc__
    return task


def _nothing(slot: datetime) -> None:
    """A heartbeat: proves cron, RabbitMQ and the consumers are all alive."""


def _rollup_hourly(slot: datetime) -> None:
    """Visits per referring domain in the hour before the slot."""
    rollups.roll_up(ReferrerVisits.HOUR, rollups.previous_bucket(ReferrerVisits.HOUR, slot))


def _rollup_daily(slot: datetime) -> None:
    """Visits per referring domain on the day before the slot."""
    rollups.roll_up(ReferrerVisits.DAY, rollups.previous_bucket(ReferrerVisits.DAY, slot))


def _refresh_suggestions(slot: datetime) -> None:
    """Every member's suggested stories, from the last week's clicks."""
    suggestions.refresh_all()


def _purge_stories(slot: datetime) -> None:
    """Stories older than STORY_RETENTION_DAYS, with their cache keys."""
    stories.purge_stories(settings.STORY_RETENTION_DAYS)


def _expire_answers(slot: datetime) -> None:
    """Answers kept for retries of writes, once older than a day (idempotency)."""
    KeptAnswer.objects.filter(created_at__lt=slot - KEEP_FOR).delete()


def _expire_exports(slot: datetime) -> None:
    """Data exports, with their documents, once EXPORT_RETENTION_HOURS past their end."""
    exports.expire(slot)


heartbeat = _scheduled("heartbeat", _nothing)
rollup_hourly = _scheduled("rollup-hourly", _rollup_hourly)
rollup_daily = _scheduled("rollup-daily", _rollup_daily)
refresh_suggestions = _scheduled("refresh-suggestions", _refresh_suggestions, batched=True)
purge_stories = _scheduled("purge-stories", _purge_stories, batched=True)
expire_answers = _scheduled("expire-answers", _expire_answers)
expire_exports = _scheduled("expire-exports", _expire_exports)
