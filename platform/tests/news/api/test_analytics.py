"""news.api.analytics: the report read from the rollups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from news.models import ReferrerVisits

pytestmark = pytest.mark.django_db


def test_the_report_shows_yesterday_and_the_last_day_of_hours(api):
    now = timezone.now()
    yesterday = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    last_hour = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    ReferrerVisits.objects.create(period="day", bucket_start=yesterday, domain="lobste.rs", visits=7)
    ReferrerVisits.objects.create(period="hour", bucket_start=last_hour, domain="", visits=3)
    body = api.get("/api/v1/analytics/referrers").json()
    assert body["day"]["domains"] == [{"domain": "lobste.rs", "visits": 7}]
    assert body["hours"][-1]["domains"] == [{"domain": "", "visits": 3}]
