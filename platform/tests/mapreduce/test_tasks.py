"""mapreduce.tasks: what the analytics consumer does with cron's message, short of
Spark itself (the system tests run the whole path)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mapreduce import runs, tasks
from mapreduce.models import Run, SuggestedMember

pytestmark = pytest.mark.django_db

JOB = "people-you-may-know"


def test_with_the_spark_master_down_the_run_fails_cleanly_with_its_reason_and_keeps_the_results(settings):
    good = runs.start(JOB, timezone.now() - timedelta(hours=1))
    SuggestedMember.objects.create(run_id=good.pk, member_id=1, rank=1, suggested_id=2, mutuals=1)
    runs.finish(good, input_rows=1, output_rows=1)
    settings.SPARK_MASTER_URL = "spark://127.0.0.1:9"  # nothing listens there
    slot = timezone.now().replace(microsecond=0)
    assert tasks.run_job(JOB, slot.isoformat(), published_by="cron1") == "failed"
    run = Run.objects.get(job=JOB, slot=slot)
    assert run.status == Run.FAILED
    assert "spark://127.0.0.1:9 does not answer" in run.error
    assert runs.latest(JOB).pk == good.pk
    assert SuggestedMember.objects.filter(run_id=good.pk).exists()


def test_a_slot_older_than_two_periods_is_skipped_without_a_run():
    old = (timezone.now() - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    assert tasks.run_job(JOB, old.isoformat()) == "stale"
    assert not Run.objects.exists()


def test_a_slot_that_succeeded_already_is_not_submitted_again(settings):
    settings.SPARK_MASTER_URL = "spark://127.0.0.1:9"  # a submission would fail: it must not happen
    slot = timezone.now().replace(microsecond=0)
    done = runs.start(JOB, slot)
    runs.finish(done, input_rows=0, output_rows=0)
    assert tasks.run_job(JOB, slot.isoformat()) == "not run"
    assert Run.objects.get(pk=done.pk).status == Run.SUCCEEDED


def test_a_slot_running_elsewhere_is_busy_so_its_message_comes_back_after_the_lease():
    """A redelivered message (its consumer killed mid-run) finds its slot running with a
    fresh lease: the task retries it once the lease could have run out."""
    slot = timezone.now().replace(microsecond=0)
    runs.start(JOB, slot)
    with pytest.raises(runs.Busy):
        tasks.run_job(JOB, slot.isoformat())
