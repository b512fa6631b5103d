"""Analytics: precalculated results, read from the rollups and from map-reduce's click
history."""

from datetime import date, datetime, timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from mapreduce import results
from news import rollups
from news.api.schemas import StoryOut

router = Router(tags=["analytics"])


class DomainVisits(Schema):
    domain: str
    visits: int


class Bucket(Schema):
    bucket_start: datetime
    domains: list[DomainVisits]


class ReferrersOut(Schema):
    day: Bucket
    hours: list[Bucket]


@router.get("/analytics/referrers", response=ReferrersOut)
def referrers(request: HttpRequest):
    """Visits per referring domain: yesterday's total and the last 24 hours, from the rollups."""
    return rollups.report()


class HistoryRange(Schema):
    days: int = Field(30, ge=1, le=366, description="days of visits per domain, up to today")
    weeks: int = Field(8, ge=1, le=53, description="weeks of most clicked stories, up to this one")


class DayVisits(Schema):
    day: date
    domain: str
    visits: int


class StoryClicks(Schema):
    story: StoryOut
    clicks: int


class WeekTop(Schema):
    week: date
    stories: list[StoryClicks]


class ClickHistoryOut(Schema):
    computed_at: datetime | None
    days: list[DayVisits]
    weeks: list[WeekTop]


@router.get("/analytics/click-history", response=ClickHistoryOut)
def click_history(request: HttpRequest, span: Query[HistoryRange]):
    """Over every click: visits per referring domain per day, and each week's most
    clicked stories (weeks start on Monday). Computed off-line by map-reduce on Spark."""
    today = timezone.now().date()
    this_week = today - timedelta(days=today.weekday())
    return results.click_history(
        today - timedelta(days=span.days - 1), this_week - timedelta(weeks=span.weeks - 1)
    )
