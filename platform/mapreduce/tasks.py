"""The map-reduce jobs cron publishes, as the analytics consumer runs them.

A run that fails (Spark's master down, a job error) is recorded as failed, with its
error, and its message is acknowledged: the previous results stay, and the next slot
tries again. A slot older than two periods is skipped: when the analytics profile
starts after a pause, the slots queued meanwhile do not all recompute the same thing.
"""

import logging
from datetime import datetime

from celery import Task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from jobqueue import MAPREDUCE_JOBS, SCHEDULES, task_name
from mapreduce import runs, submit
from mapreduce.worker import app

log = logging.getLogger(__name__)


def run_job(job: str, slot: str, published_by: str = "") -> str:
    """Run `job` for `slot`; what happened, in a word (the task's result, in the log).
    Raises runs.Busy when the slot is running already."""
    start = datetime.fromisoformat(slot)
    if timezone.now() - start > 2 * SCHEDULES[job]:
        log.info("%s for %s skipped: a newer slot follows it", job, slot)
        return "stale"
    run = runs.start(job, start, published_by)
    if run is None:
        return "not run"
    try:
        summary = submit.run(job, run.pk, keep_alive=lambda: runs.beat(run))
    except submit.SparkJobFailed as exc:
        log.error("%s for %s failed: %s", job, slot, exc)
        runs.fail(run, str(exc))
        return "failed"
    except BaseException as exc:  # the worker stopping, a bug: record it, let Celery handle the message
        runs.fail(run, f"{type(exc).__name__}: {exc}")
        raise
    if not runs.finish(run, summary["input_rows"], summary["output_rows"]):
        return "abandoned"
    log.info("%s for %s: %s", job, slot, summary)
    return "succeeded"


def _task(job: str) -> object:
    @app.task(
        bind=True,
        name=task_name(job),
        autoretry_for=(OperationalError, InterfaceError),
        max_retries=5,
        retry_backoff=2,
        retry_backoff_max=60,
    )
    def task(self: Task, slot: str, published_by: str = "") -> str:
        try:
            return run_job(job, slot, published_by)
        except runs.Busy as exc:
            # Back once the running copy's lease could have run out: then it has
            # succeeded (nothing to do) or been abandoned (run it).
            raise self.retry(exc=exc, countdown=runs.LEASE.total_seconds() + 5) from exc

    return task


tasks = {job: _task(job) for job in MAPREDUCE_JOBS}
