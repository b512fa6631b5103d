"""What the consumers have done, kept where the platform can report it."""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


class JobRunQuerySet(models.QuerySet):
    def latest_per_job(self) -> "JobRunQuerySet":
        """The latest run of each job (what /status shows)."""
        return self.order_by("job", "-slot").distinct("job")


class JobRun(models.Model):
    """One completed run of a scheduled job for one time slot.

    Unique on (job, slot): a message delivered twice, or published twice by two
    cron containers, has one effect.
    """

    job = models.CharField(max_length=64)
    slot = models.DateTimeField(help_text="Start of the schedule slot the run belongs to.")
    published_by = models.CharField(max_length=128, blank=True)
    consumed_by = models.CharField(max_length=128, blank=True)
    finished_at = models.DateTimeField(auto_now_add=True)

    objects = JobRunQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="one_run_per_job_slot")]
        ordering = ["-slot"]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot:%Y-%m-%dT%H:%M}"


class OutboxMessage(models.Model):
    """A message to publish, written in the same transaction as the change it announces
    (the transactional outbox). The relay (`manage.py relay`) publishes it with
    publisher confirms and deletes it; RabbitMQ being down delays it, never drops it."""

    task = models.CharField(max_length=64)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.task}({self.kwargs})"


def export_retention() -> timedelta:
    """How long an export is kept once finished (EXPORT_RETENTION_HOURS)."""
    return timedelta(hours=settings.EXPORT_RETENTION_HOURS)


def _expired(now: datetime) -> models.Q:
    """Past its retention: a finished export that long after it finished; an unfinished
    one (a build that never ended) that long after it was asked for, so that it stops
    holding its member's one export in progress."""
    cutoff = now - export_retention()
    return models.Q(finished_at__lt=cutoff) | models.Q(finished_at__isnull=True, created_at__lt=cutoff)


class ExportQuerySet(models.QuerySet):
    def expired(self, now: datetime) -> "ExportQuerySet":
        return self.filter(_expired(now))

    def unexpired(self, now: datetime) -> "ExportQuerySet":
        return self.exclude(_expired(now))


class Export(models.Model):
    """A member's request for a copy of their data: scheduled, then polled, then deleted
    with its document once past its retention (the `expire-exports` job).

    One at a time per member: a partial unique index allows one queued or running
    export per member, so a second request is refused even when two arrive at once.
    """

    QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
    UNFINISHED = (QUEUED, RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey("news.User", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=8,
        default=QUEUED,
        choices=[(QUEUED, "queued"), (RUNNING, "running"), (DONE, "done"), (FAILED, "failed")],
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent done")
    result = models.BinaryField(null=True, help_text="the JSON document, once done")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=("queued", "running")),  # Export.UNFINISHED
                name="one_export_in_progress_per_member",
            )
        ]

    @property
    def expires_at(self) -> datetime | None:
        """When the finished export (its document with it) is deleted; None until it finishes."""
        return None if self.finished_at is None else self.finished_at + export_retention()
