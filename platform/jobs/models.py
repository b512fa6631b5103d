"""What the consumers have done, kept where the platform can report it."""

from django.db import models


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="one_run_per_job_slot")]
        ordering = ["-slot"]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot:%Y-%m-%dT%H:%M}"
