"""news.api.analytics: the report read from the rollups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mapreduce import runs
from mapreduce.models import DomainDayVisits
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


def test_the_click_history_is_empty_with_no_date_before_any_run(api):
    body = api.get("/api/v1/analytics/click-history").json()
    assert body == {"computed_at": None, "days": [], "weeks": []}


def test_the_click_history_shows_the_latest_runs_rows(api):
    today = timezone.now().date()
    run = runs.start("click-history", timezone.now())
    DomainDayVisits.objects.create(run_id=run.pk, day=today, domain="lobste.rs", visits=4)
    runs.finish(run, input_rows=4, output_rows=1)
    body = api.get("/api/v1/analytics/click-history", {"days": 7, "weeks": 2}).json()
    assert body["days"] == [{"day": today.isoformat(), "domain": "lobste.rs", "visits": 4}]
    assert body["computed_at"]


@pytest.mark.parametrize("query", [{"days": 0}, {"days": 367}, {"weeks": 0}, {"weeks": "many"}])
def test_a_click_history_range_out_of_bounds_is_a_400_with_the_reason(api, query):
    response = api.get("/api/v1/analytics/click-history", query)
    assert response.status_code == 400
    assert response.json()["detail"]
