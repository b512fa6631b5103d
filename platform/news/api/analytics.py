"""Analytics: precalculated results, read from the rollups."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from news import rollups

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
