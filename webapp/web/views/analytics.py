"""Analytics: visits per referring domain, read from the platform's rollups.

The article's example of precalculated results: rollup jobs count the clicks once per
hour and per day, so this page reads a few rows instead of counting clicks per request.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from web.platform_client import platform

TOP_DOMAINS = 3  # per hour in the last-24-hours table


def with_bars(domains: list[dict]) -> list[dict]:
    """Each domain with `bar`, its visits as a percentage of the top domain's (for a CSS width)."""
    top = max((row["visits"] for row in domains), default=0)
    # A string with a dot, whatever the locale: it goes into a CSS width.
    return [{**row, "bar": f"{100 * row['visits'] / top:.1f}" if top else "0"} for row in domains]


def hour_row(bucket: dict) -> dict:
    domains = bucket["domains"]
    return {
        "bucket_start": bucket["bucket_start"],
        "visits": sum(row["visits"] for row in domains),
        "top": sorted(domains, key=lambda row: (-row["visits"], row["domain"]))[:TOP_DOMAINS],
        "others": max(len(domains) - TOP_DOMAINS, 0),
    }


@require_GET
def referrers(request: HttpRequest) -> HttpResponse:
    report = platform.referrers()
    day = report["day"]
    context = {
        "day_start": day["bucket_start"],
        "day_domains": with_bars(day["domains"]),
        "day_visits": sum(row["visits"] for row in day["domains"]),
        # Newest hour first: the latest counts are what a reader looks for.
        "hours": [hour_row(bucket) for bucket in reversed(report["hours"])],
    }
    return render(request, "web/analytics.html", context)
