"""The click-history map-reduce, against answers computed in plain Python."""

import random
from collections import Counter
from datetime import date, timedelta

from mapreduce.spark.click_history import top_stories_per_week, visits_per_domain_day, week_of


def generated_clicks(seed: int, count: int = 600) -> list[tuple[int, str, date]]:
    rng = random.Random(seed)
    domains = ["", "news.example", "search.example", "social.example"]
    start = date(2026, 10, 1)
    return [
        (rng.choice(range(1, 30)), rng.choice(domains), start + timedelta(days=rng.randint(0, 40)))
        for _ in range(count)
    ]


def test_weeks_start_on_monday():
    assert week_of(date(2026, 12, 2)) == date(2026, 11, 30)  # a Wednesday
    assert week_of(date(2026, 11, 30)) == date(2026, 11, 30)
    assert week_of(date(2026, 12, 6)) == date(2026, 11, 30)  # the Sunday


def test_visits_per_domain_per_day_match_a_plain_count(spark):
    clicks = generated_clicks(1)
    expected = Counter((day, domain) for _, domain, day in clicks)
    rows = visits_per_domain_day(spark.sparkContext.parallelize(clicks, 3)).collect()
    assert sorted(rows) == sorted((day, domain, n) for (day, domain), n in expected.items())


def test_the_most_clicked_stories_of_each_week_match_a_plain_ranking_ties_included(spark):
    clicks = generated_clicks(2)
    per_week: dict[date, Counter[int]] = {}
    for story, _, day in clicks:
        per_week.setdefault(week_of(day), Counter())[story] += 1
    expected = []
    for week, counts in per_week.items():
        best = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:5]
        expected += [(week, rank, story, n) for rank, (story, n) in enumerate(best, start=1)]
    rows = top_stories_per_week(spark.sparkContext.parallelize(clicks, 3), top=5).collect()
    assert sorted(rows) == sorted(expected)
