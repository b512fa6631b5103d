"""The first answer to each write that carried an idempotency key."""

from datetime import timedelta

from django.db import models

# How long an answer is kept for a retry (the hourly `expire-answers` job forgets older ones).
KEEP_FOR = timedelta(days=1)


class KeptAnswer(models.Model):
    """The answer to a write, stored in the same transaction as the write itself, so a
    retry of that write (same key, same caller) gets this answer and changes nothing.

    Unique on (caller, key): a retry that arrives while the first attempt still runs
    waits on the index until that attempt commits or rolls back.
    """

    caller = models.CharField(
        max_length=20,
        blank=True,
        help_text="the acting sign-in (a digest of its assertion); empty for nobody",
    )
    key = models.CharField(max_length=100)
    request = models.CharField(max_length=64, help_text="what was asked: method, path and body, hashed")
    status = models.PositiveSmallIntegerField(null=True, help_text="null until the write has answered")
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="one_answer_per_key")]

    def __str__(self) -> str:
        return f"{self.caller or '-'}:{self.key} -> {self.status}"
