"""web.views.analytics: visits per referring domain, read from the platform's rollups."""

import re

from web.platform_client import platform

REPORT = {
    "day": {
        "bucket_start": "2026-01-01T00:00:00Z",
        "domains": [
            {"domain": "", "visits": 40},
            {"domain": "news.ycombinator.com", "visits": 20},
            {"domain": "lobste.rs", "visits": 1},
        ],
    },
    "hours": [
        {
            "bucket_start": "2026-01-01T22:00:00Z",
            "domains": [
                {"domain": "a.example", "visits": 5},
                {"domain": "b.example", "visits": 4},
                {"domain": "c.example", "visits": 3},
                {"domain": "d.example", "visits": 2},
                {"domain": "e.example", "visits": 1},
            ],
        },
        {"bucket_start": "2026-01-01T23:00:00Z", "domains": [{"domain": "", "visits": 7}]},
    ],
}


def test_the_analytics_page_reads_the_rollups(client):
    response = client.get("/analytics")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="nav-analytics"' in html
    assert "Precalculated by rollup jobs" in html
    # The demo world's history is rolled up; right after midnight, yesterday may not be yet.
    assert ('data-testid="day-domain"' in html) != ('data-testid="analytics-day-empty"' in html)
    assert ('data-testid="hour-row"' in html) != ('data-testid="analytics-hours-empty"' in html)
    report = platform.referrers()
    assert html.count('data-testid="day-domain"') == len(report["day"]["domains"])
    assert html.count('data-testid="hour-row"') <= 25


def test_bars_are_proportional_and_direct_visits_are_named(client, monkeypatch):
    monkeypatch.setattr(platform, "referrers", lambda: REPORT)
    html = client.get("/analytics").content.decode()
    assert re.findall(r'style="width: ([\d.]+)%"', html) == ["100.0", "50.0", "2.5"]
    assert "<td>(direct)</td>" in html
    assert 'data-testid="day-total">61<' in html
    hours = re.findall(r'data-testid="hour-row">\s*<td><time datetime="([^"]+)"', html)
    assert hours == ["2026-01-01T23:00:00Z", "2026-01-01T22:00:00Z"], "newest hour first"
    assert "e.example" not in html and "and 2 more" in html, "the top three domains of an hour"


def test_no_rollups_yet_is_said_plainly(client, monkeypatch):
    empty = {"day": {"bucket_start": "2026-01-01T00:00:00Z", "domains": []}, "hours": []}
    monkeypatch.setattr(platform, "referrers", lambda: empty)
    html = client.get("/analytics").content.decode()
    assert 'data-testid="analytics-day-empty"' in html and 'data-testid="analytics-hours-empty"' in html
    assert "<table" not in html


HISTORY = {
    "computed_at": "2026-01-05T00:30:00Z",
    "days": [
        {"day": "2026-01-01", "domain": "", "visits": 6},
        {"day": "2026-01-01", "domain": "a.example", "visits": 2},
        {"day": "2026-01-03", "domain": "b.example", "visits": 3},
        {"day": "2026-01-03", "domain": "c.example", "visits": 1},
        {"day": "2026-01-03", "domain": "d.example", "visits": 1},
        {"day": "2026-01-03", "domain": "e.example", "visits": 1},
    ],
    "weeks": [],
}


def test_the_click_history_chart_has_a_bar_a_day_stacked_by_domain_with_the_rest_as_one(client, monkeypatch):
    monkeypatch.setattr(platform, "click_history", lambda days, weeks: HISTORY)
    html = client.get("/analytics").content.decode()
    bars = re.findall(r'data-testid="history-bar" data-day="([\d-]+)" data-total="(\d+)"', html)
    assert bars == [("2026-01-01", "8"), ("2026-01-02", "0"), ("2026-01-03", "6")], "a day with no visits too"
    # The top four domains by visits, then one series for the rest.
    legend = re.findall(r'<span class="swatch series-(\d)"></span>([^<]+)<', html)
    assert legend == [
        ("0", "(direct)"),
        ("1", "b.example"),
        ("2", "a.example"),
        ("3", "c.example"),
        ("4", "other domains"),
    ]
    # The highest day fills the chart's height: its segments add up to 160.
    first_day = re.search(r'data-day="2026-01-01".*?</g>', html, re.S).group(0)
    assert sum(float(h) for h in re.findall(r'height="([\d.]+)"', first_day)) == 160.0
    assert "<script" not in html.split('data-testid="click-history"')[1]


def test_no_click_history_yet_says_how_to_compute_it(client, monkeypatch):
    monkeypatch.setattr(
        platform, "click_history", lambda days, weeks: {"computed_at": None, "days": [], "weeks": []}
    )
    html = client.get("/analytics").content.decode()
    assert 'data-testid="history-empty"' in html and "make mapreduce JOB=click-history" in html
    assert 'data-testid="history-chart"' not in html
