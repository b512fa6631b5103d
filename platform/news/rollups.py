"""Precalculated results, the article's example: visits per referring domain, counted
per hour and per day by rollup jobs, so the analytics page reads a few rows
instead of counting clicks.

A rollup recomputes its bucket from the clicks and replaces the stored counts, so
running it twice (a redelivered message, two cron containers) gives the same rows.
Clicks reach Postgres through the click stream within seconds; cron runs the hourly
rollup a few minutes after the hour, once the hour's clicks have landed.
"""

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from news.models import ReferrerVisits

PERIODS = {ReferrerVisits.HOUR: timedelta(hours=1), ReferrerVisits.DAY: timedelta(days=1)}


def roll_up(period: str, bucket_start: datetime) -> int:
    """Count the visits per referring domain in [bucket_start, bucket_start + period);
    return how many domains had visits."""
    end = bucket_start + PERIODS[period]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM news_referrervisits WHERE period = %s AND bucket_start = %s", [period, bucket_start]
        )
        cursor.execute(
            """
            INSERT INTO news_referrervisits (period, bucket_start, domain, visits)
            SELECT %s, %s, referrer_domain, count(*) FROM news_click
            WHERE created_at >= %s AND created_at < %s
            GROUP BY referrer_domain
            """,
            [period, bucket_start, bucket_start, end],
        )
        return cursor.rowcount


def previous_bucket(period: str, slot: datetime) -> datetime:
    """The bucket a rollup scheduled for `slot` counts: the whole period before it."""
    return slot - PERIODS[period]


def backfill(days: int) -> None:
    """Roll up every hour and day of the last `days` days (the demo world's history)."""
    now = timezone.now()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for day in range(days, 0, -1):
        roll_up(ReferrerVisits.DAY, today - timedelta(days=day))
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    for hour in range(days * 24, 0, -1):
        roll_up(ReferrerVisits.HOUR, this_hour - timedelta(hours=hour))


def report(now: datetime | None = None) -> dict:
    """What the analytics page shows: yesterday per domain, and the last 24 hours."""
    now = now or timezone.now()
    yesterday = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    since = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=24)
    day = ReferrerVisits.objects.filter(period=ReferrerVisits.DAY, bucket_start=yesterday).order_by(
        "-visits", "domain"
    )
    hours = ReferrerVisits.objects.filter(period=ReferrerVisits.HOUR, bucket_start__gte=since).order_by(
        "bucket_start", "-visits", "domain"
    )
    by_hour: dict[datetime, list[dict]] = {}
    for row in hours:
        by_hour.setdefault(row.bucket_start, []).append({"domain": row.domain, "visits": row.visits})
    return {
        "day": {
            "bucket_start": yesterday,
            "domains": [{"domain": r.domain, "visits": r.visits} for r in day],
        },
        "hours": [{"bucket_start": start, "domains": rows} for start, rows in by_hour.items()],
    }
