"""A map-reduce run's life: started once per slot, one at a time per job, kept alive by
heartbeats, and finished in one transaction, so that a page never sees half a result.

    start()  -> a Run, or None when the slot is done already, running, or must wait
    beat()   -> renews the run's lease while Spark works
    finish() -> succeeded: the run's rows become the ones pages read; older rows go
    fail()   -> failed, with its error; its partial rows go, the previous results stay
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from mapreduce.models import DomainDayVisits, Run, SuggestedMember, WeekTopStory

log = logging.getLogger(__name__)

# A running run whose driver has not renewed its lease for this long is abandoned
# (its consumer was killed): it stops blocking the job's next run.
LEASE = timedelta(minutes=2)
# Each job's result tables: rows carry their run's id.
RESULTS: dict[str, tuple[type[Model], ...]] = {
    "people-you-may-know": (SuggestedMember,),
    "click-history": (DomainDayVisits, WeekTopStory),
}


class Busy(Exception):
    """This very slot is running, on a consumer that may be alive or not: ask again
    once its lease could have run out."""


def start(job: str, slot: datetime, published_by: str = "") -> Run | None:
    """Claim the (job, slot) run. None when it succeeded already, or when another slot
    of the job is running (this slot is then recorded as skipped). Busy when this slot
    is running (a redelivered message, after its consumer was killed)."""
    now = timezone.now()
    with transaction.atomic():
        abandoned = Run.objects.filter(job=job, status=Run.RUNNING, heartbeat_at__lt=now - LEASE)
        for dead in abandoned.select_for_update():
            _drop_rows(dead)
        abandoned.update(
            status=Run.FAILED, finished_at=now, error="Abandoned: its consumer stopped renewing its lease."
        )
        run = Run.objects.select_for_update().filter(job=job, slot=slot).first()
        if run is not None and run.status == Run.RUNNING:
            raise Busy(f"{job} for {slot} is running on {run.consumed_by}")
        if run is not None and run.status == Run.SUCCEEDED:
            log.info("%s: %s already succeeded", job, slot)
            return None
        fields = {
            "status": Run.RUNNING,
            "published_by": published_by,
            "consumed_by": settings.NODE_NAME,
            "started_at": now,
            "heartbeat_at": now,
            "finished_at": None,
            "error": "",
        }
        try:
            with transaction.atomic():
                run, _ = Run.objects.update_or_create(job=job, slot=slot, defaults=fields)
        except IntegrityError:
            # Another slot of this job holds the running place (or this very slot, claimed
            # a moment ago by a second copy of the message).
            running = Run.objects.filter(job=job, status=Run.RUNNING).first()
            if running is None or running.slot == slot:
                raise Busy(f"{job} for {slot} was claimed a moment ago") from None
            skipped = {**fields, "status": Run.SKIPPED, "finished_at": now}
            skipped["error"] = f"Skipped: the run of {running.slot:%Y-%m-%d %H:%M} was still running."
            Run.objects.update_or_create(job=job, slot=slot, defaults=skipped)
            log.warning("%s: %s skipped, %s is running", job, slot, running.slot)
            return None
    return run


def beat(run: Run) -> bool:
    """Renew the run's lease; False if it is no longer running (it was abandoned)."""
    return bool(Run.objects.filter(pk=run.pk, status=Run.RUNNING).update(heartbeat_at=timezone.now()))


def finish(run: Run, input_rows: int, output_rows: int) -> bool:
    """The run succeeded: in one transaction, its rows become the current results and
    every other run's rows of the job go. False if it had been abandoned meanwhile."""
    with transaction.atomic():
        done = Run.objects.filter(pk=run.pk, status=Run.RUNNING).update(
            status=Run.SUCCEEDED, finished_at=timezone.now(), input_rows=input_rows, output_rows=output_rows
        )
        if not done:
            _drop_rows(run)
            return False
        for model in RESULTS[run.job]:
            model._default_manager.exclude(run_id=run.pk).delete()
    return True


def fail(run: Run, error: str) -> None:
    """The run failed: recorded with its error; its partial rows go, the last
    succeeded run's rows stay where the pages read them."""
    with transaction.atomic():
        Run.objects.filter(pk=run.pk).update(
            status=Run.FAILED, finished_at=timezone.now(), error=error[-4000:]
        )
        _drop_rows(run)


def _drop_rows(run: Run) -> None:
    for model in RESULTS[run.job]:
        model._default_manager.filter(run_id=run.pk).delete()


def latest(job: str) -> Run | None:
    """The job's latest succeeded run: the one whose results the pages show."""
    return Run.objects.filter(job=job, status=Run.SUCCEEDED).order_by("-finished_at").first()


def report() -> list[dict]:
    """Each job's latest run, whatever its end, and when the results pages show were
    computed (/status: a failed run shows its error beside the results still served)."""
    report = []
    for job in RESULTS:
        last = Run.objects.filter(job=job).order_by("-started_at").first()
        served = latest(job)
        report.append(
            {
                "job": job,
                "last_run": last,
                "results_from": served.finished_at if served else None,
            }
        )
    return report
