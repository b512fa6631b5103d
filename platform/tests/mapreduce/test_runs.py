"""mapreduce.runs: one run per slot, one at a time per job, and results that change
all at once or not at all (against the real Postgres)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from mapreduce import runs
from mapreduce.models import Run, SuggestedMember

pytestmark = pytest.mark.django_db

JOB = "people-you-may-know"
SLOT = datetime(2026, 3, 1, 10, tzinfo=UTC)


def suggestion(run: Run, member_id: int = 1, rank: int = 1, suggested_id: int = 2) -> None:
    """A row as the Spark job writes it, tagged with its run."""
    SuggestedMember.objects.create(
        run_id=run.pk, member_id=member_id, rank=rank, suggested_id=suggested_id, mutuals=3
    )


def succeeded_run(slot: datetime) -> Run:
    run = runs.start(JOB, slot)
    assert run is not None
    suggestion(run, suggested_id=slot.hour)
    assert runs.finish(run, input_rows=10, output_rows=1)
    return run


def test_a_slot_that_succeeded_is_not_run_again():
    succeeded_run(SLOT)
    assert runs.start(JOB, SLOT) is None
    assert Run.objects.get(job=JOB, slot=SLOT).status == Run.SUCCEEDED


def test_a_slot_whose_run_failed_may_run_again():
    run = runs.start(JOB, SLOT)
    runs.fail(run, "The Spark master spark://spark-master:7077 does not answer.")
    again = runs.start(JOB, SLOT)
    assert again is not None and again.pk == run.pk and again.status == Run.RUNNING and again.error == ""


def test_a_second_copy_of_a_running_slot_is_told_to_come_back_later():
    runs.start(JOB, SLOT)
    with pytest.raises(runs.Busy):
        runs.start(JOB, SLOT)


def test_two_slots_never_run_at_once_the_second_is_recorded_as_skipped():
    runs.start(JOB, SLOT)
    assert runs.start(JOB, SLOT + timedelta(hours=1)) is None
    skipped = Run.objects.get(job=JOB, slot=SLOT + timedelta(hours=1))
    assert skipped.status == Run.SKIPPED
    assert "was still running" in skipped.error


def test_other_jobs_run_beside_a_running_one():
    runs.start(JOB, SLOT)
    assert runs.start("click-history", SLOT) is not None


def test_a_run_whose_consumer_died_is_abandoned_once_its_lease_runs_out_and_the_slot_runs_again():
    dead = runs.start(JOB, SLOT)
    suggestion(dead)  # written before its consumer was killed
    Run.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - runs.LEASE - timedelta(seconds=1))
    again = runs.start(JOB, SLOT + timedelta(hours=1))
    assert again is not None
    dead.refresh_from_db()
    assert dead.status == Run.FAILED and "Abandoned" in dead.error
    assert not SuggestedMember.objects.filter(run_id=dead.pk).exists()


def test_a_run_keeps_its_lease_with_heartbeats_and_loses_it_once_abandoned():
    run = runs.start(JOB, SLOT)
    assert runs.beat(run) is True
    Run.objects.filter(pk=run.pk).update(status=Run.FAILED)
    assert runs.beat(run) is False


def test_finishing_makes_the_runs_rows_the_results_and_drops_every_other_runs_rows():
    old = succeeded_run(SLOT)
    failed = runs.start(JOB, SLOT + timedelta(hours=1))
    suggestion(failed, member_id=5)
    runs.fail(failed, "boom")
    new = succeeded_run(SLOT + timedelta(hours=2))
    assert list(SuggestedMember.objects.values_list("run_id", flat=True).distinct()) == [new.pk]
    assert runs.latest(JOB).pk == new.pk
    assert old.pk != new.pk


def test_a_failed_run_leaves_the_previous_results_in_place_and_its_error_on_status():
    good = succeeded_run(SLOT)
    bad = runs.start(JOB, SLOT + timedelta(hours=1))
    suggestion(bad, member_id=7)  # half written when Spark failed
    runs.fail(bad, "spark-submit exited with status 1: Lost executor")
    assert set(SuggestedMember.objects.values_list("run_id", flat=True)) == {good.pk}
    report = {job["job"]: job for job in runs.report()}[JOB]
    assert report["last_run"].status == Run.FAILED
    assert "Lost executor" in report["last_run"].error
    assert report["results_from"] == Run.objects.get(pk=good.pk).finished_at


def test_a_run_abandoned_while_spark_worked_does_not_replace_the_results():
    good = succeeded_run(SLOT)
    slow = runs.start(JOB, SLOT + timedelta(hours=1))
    suggestion(slow, member_id=9)
    Run.objects.filter(pk=slow.pk).update(status=Run.FAILED)  # abandoned by another consumer meanwhile
    assert runs.finish(slow, input_rows=1, output_rows=1) is False
    assert set(SuggestedMember.objects.values_list("run_id", flat=True)) == {good.pk}
