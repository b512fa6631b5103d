"""news.rollups: visits per referring domain, precalculated."""

from datetime import UTC, datetime, timedelta

import pytest

from news import rollups
from news.models import Click, ReferrerVisits, Story

pytestmark = pytest.mark.django_db


def test_a_rollup_counts_visits_per_domain_and_a_rerun_gives_the_same_rows(author):
    story = Story.objects.create(author=author, title="Counted", url="https://example.com/n")
    hour = datetime(2026, 11, 27, 9, tzinfo=UTC)
    for minute, domain in [(1, "lobste.rs"), (2, "lobste.rs"), (3, ""), (59, "duckduckgo.com")]:
        Click.objects.create(story=story, referrer_domain=domain, created_at=hour + timedelta(minutes=minute))
    Click.objects.create(story=story, referrer_domain="lobste.rs", created_at=hour + timedelta(hours=1))

    for _ in range(2):
        assert rollups.roll_up(ReferrerVisits.HOUR, hour) == 3
    rows = ReferrerVisits.objects.filter(period="hour", bucket_start=hour)
    assert dict(rows.values_list("domain", "visits")) == {"lobste.rs": 2, "": 1, "duckduckgo.com": 1}
    rollups.roll_up(ReferrerVisits.DAY, datetime(2026, 11, 27, tzinfo=UTC))
    assert ReferrerVisits.objects.get(period="day", domain="lobste.rs").visits == 3
