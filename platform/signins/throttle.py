"""Slowing down password guessing, per account.

The edge limits how often one address may try (haproxy/edge.cfg); this limits how
often anyone may try one account, from however many addresses. After FREE_ATTEMPTS
wrong passwords in a row, the next attempt must wait, and each further wrong one
doubles the wait, up to MAX_WAIT. A waiting attempt is refused before its password is
hashed, so guessing costs the platform nothing while an account waits. A right
password (once the wait is over) clears the count.

The wait is told to whoever tries, the member included: someone guessing can make a
member wait, never lock them out for good, and the member knows why.
"""

from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from news.errors import TooManyAttempts
from signins.models import LoginFailures

FREE_ATTEMPTS = 5
FIRST_WAIT = 15  # seconds, after the free attempts; doubled by each further failure
MAX_WAIT = 15 * 60


def wait_after(failures: int) -> int:
    """Seconds an account must wait after `failures` wrong passwords in a row."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_WAIT, FIRST_WAIT * 2 ** (failures - FREE_ATTEMPTS))


def check(user_id: int, now: datetime | None = None) -> None:
    """Refuse an attempt on an account that must still wait (TooManyAttempts, with how long)."""
    failures = LoginFailures.objects.filter(pk=user_id).values_list("count", "last_failed_at").first()
    if failures is None or failures[1] is None:
        return
    count, last_failed_at = failures
    ready_at = last_failed_at + timedelta(seconds=wait_after(count))
    left = (ready_at - (now or timezone.now())).total_seconds()
    if left > 0:
        raise TooManyAttempts(
            f"Too many wrong passwords for this account: try again in {int(left) + 1} seconds.",
            retry_after=int(left) + 1,
        )


def failed(user_id: int) -> None:
    LoginFailures.objects.get_or_create(pk=user_id)
    LoginFailures.objects.filter(pk=user_id).update(count=F("count") + 1, last_failed_at=timezone.now())


def succeeded(user_id: int) -> None:
    LoginFailures.objects.filter(pk=user_id).delete()
