"""mapreduce.results: the pages read the latest succeeded run only, and never show a
member followed or closed since it ran."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from mapreduce import results, runs
from mapreduce.models import DomainDayVisits, Run, SuggestedMember, WeekTopStory
from news import accounts
from news.models import Story
from tests.support import follow, member

pytestmark = pytest.mark.django_db


def run_of(job: str, rows: list) -> Run:
    run = runs.start(job, timezone.now() - timedelta(minutes=1))
    assert run is not None
    for row in rows:
        row.run_id = run.pk
        row.save()
    assert runs.finish(run, input_rows=0, output_rows=len(rows))
    return run


def test_no_run_yet_means_no_suggestions_and_no_date():
    ada = member("ada")
    assert results.people_you_may_know(ada.pk) == ([], None)


def test_suggestions_come_in_rank_order_with_their_mutual_connections_and_the_runs_date():
    ada, bob, cy = member("ada"), member("bob"), member("cy")
    run = run_of(
        "people-you-may-know",
        [
            SuggestedMember(member_id=ada.pk, rank=2, suggested_id=cy.pk, mutuals=1),
            SuggestedMember(member_id=ada.pk, rank=1, suggested_id=bob.pk, mutuals=4),
        ],
    )
    people, computed_at = results.people_you_may_know(ada.pk)
    assert [(p["member"]["id"], p["mutuals"]) for p in people] == [(bob.pk, 4), (cy.pk, 1)]
    assert computed_at == Run.objects.get(pk=run.pk).finished_at


def test_a_member_followed_or_closed_since_the_run_is_left_out_at_once():
    ada, bob, cy, dee = member("ada"), member("bob"), member("cy"), member("dee")
    run_of(
        "people-you-may-know",
        [
            SuggestedMember(member_id=ada.pk, rank=n, suggested_id=m.pk, mutuals=1)
            for n, m in enumerate([bob, cy, dee], 1)
        ],
    )
    follow(ada, bob)
    accounts.close(cy.pk)
    people, computed_at = results.people_you_may_know(ada.pk)
    assert [p["member"]["id"] for p in people] == [dee.pk]
    assert computed_at is not None


def test_a_member_with_no_suggestions_still_learns_when_the_run_was():
    ada = member("ada")
    run_of("people-you-may-know", [])
    people, computed_at = results.people_you_may_know(ada.pk)
    assert people == [] and computed_at is not None


def test_the_click_history_reads_the_days_and_weeks_asked_for_and_leaves_deleted_stories_out():
    author = member("author")
    kept = Story.objects.create(author=author, title="Kept", url="https://example.com/k")
    gone = Story.objects.create(author=author, title="Gone", url="https://example.com/g")
    today = timezone.now().date()
    monday = today - timedelta(days=today.weekday())
    run_of(
        "click-history",
        [
            DomainDayVisits(day=today, domain="lobste.rs", visits=5),
            DomainDayVisits(day=today - timedelta(days=40), domain="old.example", visits=9),
            WeekTopStory(week=monday, rank=1, story_id=gone.pk, clicks=8),
            WeekTopStory(week=monday, rank=2, story_id=kept.pk, clicks=3),
            WeekTopStory(week=monday - timedelta(weeks=10), rank=1, story_id=kept.pk, clicks=1),
        ],
    )
    gone.delete()
    history = results.click_history(today - timedelta(days=29), monday - timedelta(weeks=3))
    assert history["days"] == [{"day": today, "domain": "lobste.rs", "visits": 5}]
    assert [
        (w["week"], [(s["story"]["id"], s["clicks"]) for s in w["stories"]]) for w in history["weeks"]
    ] == [(monday, [(kept.pk, 3)])]
    assert history["computed_at"] is not None


def test_no_click_history_run_yet():
    assert results.click_history(date(2026, 1, 1), date(2026, 1, 1)) == {
        "computed_at": None,
        "days": [],
        "weeks": [],
    }
