"""Slowing down password guessing, per account.

The edge limits how often one address may try (haproxy/edge.cfg); this limits how
often anyone may try one account, from however many addresses. After FREE_ATTEMPTS
wrong passwords in a row, the next attempt must wait, and each further wrong one
doubles the wait, up to MAX_WAIT. A right password (once the wait is over) clears the
count.

An attempt is counted as wrong before its password is hashed, in one statement that
also checks the wait (a row lock orders attempts on the same account), and cleared if
the password was right. So forty guesses sent at once hash FREE_ATTEMPTS passwords,
not forty: the others are refused at once, and guessing costs the platform nothing
while the account waits.

The wait is told to whoever tries, the member included: someone guessing can make a
member wait, never lock them out for good, and the member knows why.
"""

from django.db import connection, transaction

from news.errors import TooManyAttempts
from signins.models import LoginFailures

FREE_ATTEMPTS = 5
FIRST_WAIT = 15  # seconds, after the free attempts; doubled by each further failure
MAX_WAIT = 15 * 60

# Seconds an account with `count` failures must wait after its last one (none before
# FREE_ATTEMPTS: the upsert below only asks once there are that many).
_WAIT_SQL = f"LEAST({MAX_WAIT}, {FIRST_WAIT} * power(2, GREATEST(f.count - {FREE_ATTEMPTS}, 0)))"
_ATTEMPT = f"""
    INSERT INTO {LoginFailures._meta.db_table} AS f (user_id, count, last_failed_at)
    VALUES (%s, 1, now())
    ON CONFLICT (user_id) DO UPDATE SET count = f.count + 1, last_failed_at = now()
    WHERE f.count < {FREE_ATTEMPTS} OR f.last_failed_at + {_WAIT_SQL} * interval '1 second' <= now()
    RETURNING f.count
"""
_LEFT = f"""
    SELECT ceil(extract(epoch FROM f.last_failed_at + {_WAIT_SQL} * interval '1 second' - now()))
    FROM {LoginFailures._meta.db_table} AS f WHERE f.user_id = %s
"""


def attempt(user_id: int) -> None:
    """Count an attempt on the account as wrong until proven right (`succeeded`); refuse
    it (TooManyAttempts, saying how long to wait) while the account must wait."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_ATTEMPT, [user_id])
        if cursor.fetchone() is not None:
            return
        cursor.execute(_LEFT, [user_id])
        found = cursor.fetchone()
    left = max(1, int(found[0])) if found else 1
    raise TooManyAttempts(
        f"Too many wrong passwords for this account: try again in {left} seconds.", retry_after=left
    )


def succeeded(user_id: int) -> None:
    LoginFailures.objects.filter(pk=user_id).delete()
