"""Map-reduce runs and what they computed, kept where the platform reads them.

The Spark jobs (mapreduce/spark) write their results with JDBC, each row tagged with
its run. A page reads the rows of the latest *succeeded* run only, so a run that is
still writing, or that failed half-way, is never seen; the run turns succeeded in
one transaction that also drops every other run's rows (mapreduce.runs).
"""

from django.db import models
from django.db.models import Q


class Run(models.Model):
    """One run of a map-reduce job for one schedule slot (or one by-hand request)."""

    RUNNING, SUCCEEDED, FAILED, SKIPPED = "running", "succeeded", "failed", "skipped"
    STATUSES = [(s, s) for s in (RUNNING, SUCCEEDED, FAILED, SKIPPED)]

    job = models.CharField(max_length=64)
    slot = models.DateTimeField(help_text="Start of the schedule slot: the run's identity.")
    status = models.CharField(max_length=9, choices=STATUSES, default=RUNNING)
    published_by = models.CharField(max_length=128, blank=True)
    consumed_by = models.CharField(max_length=128, blank=True)
    started_at = models.DateTimeField()
    # The driver renews its lease while Spark works; a run whose lease ran out
    # (its consumer was killed) stops counting as running.
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)
    input_rows = models.BigIntegerField(null=True)
    output_rows = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="one_mapreduce_run_per_slot"),
            # Two slots never run one job at once: the second one's insert fails.
            models.UniqueConstraint(
                fields=["job"], condition=Q(status="running"), name="one_running_run_per_job"
            ),
        ]
        indexes = [models.Index(fields=["job", "status", "-finished_at"], name="mapreduce_latest_run")]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot:%Y-%m-%dT%H:%M} ({self.status})"


class SuggestedMember(models.Model):
    """People you may know: one suggestion for one member, ranked. Written by Spark."""

    pk = models.CompositePrimaryKey("run_id", "member_id", "rank")
    run_id = models.BigIntegerField()
    member_id = models.BigIntegerField()
    rank = models.PositiveSmallIntegerField(help_text="1 first: most mutual connections, then lowest id")
    suggested_id = models.BigIntegerField()
    mutuals = models.PositiveIntegerField(help_text="members they follow who follow the suggested member")


class DomainDayVisits(models.Model):
    """The click history: visits per referring domain per day, over every click."""

    pk = models.CompositePrimaryKey("run_id", "day", "domain")
    run_id = models.BigIntegerField()
    day = models.DateField()
    domain = models.CharField(max_length=253, help_text="'' for visits with no referrer")
    visits = models.PositiveIntegerField()


class WeekTopStory(models.Model):
    """The click history: the most clicked stories of each week (weeks start on Monday)."""

    pk = models.CompositePrimaryKey("run_id", "week", "rank")
    run_id = models.BigIntegerField()
    week = models.DateField()
    rank = models.PositiveSmallIntegerField()
    story_id = models.BigIntegerField()
    clicks = models.PositiveIntegerField()
