"""Analytics: visits per referring domain, read from the platform's rollups, and the
click history, computed by map-reduce on Spark.

The article's example of precalculated results: rollup jobs count the clicks once per
hour and per day, and a map-reduce job goes over every click once a day, so this page
reads a few rows instead of counting clicks per request.
"""

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from web.platform_client import platform

TOP_DOMAINS = 3  # per hour in the last-24-hours table
HISTORY_DAYS, HISTORY_WEEKS = 30, 4
CHART_SERIES = 4  # domains drawn apart in the click history's chart; the rest as one
CHART_WIDTH, CHART_HEIGHT = 600, 160


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


def history_chart(rows: list[dict]) -> dict:
    """A stacked bar chart of visits per day, drawn as SVG by the template (no script):
    one bar a day from the first to the last, one colour per top domain, the rest as one."""
    if not rows:
        return {"bars": []}
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["domain"]] = totals.get(row["domain"], 0) + row["visits"]
    top = sorted(totals, key=lambda domain: (-totals[domain], domain))[:CHART_SERIES]
    series = {domain: index for index, domain in enumerate(top)}
    per_day: dict[date, list[int]] = {}
    for row in rows:
        day = date.fromisoformat(row["day"])
        counts = per_day.setdefault(day, [0] * (len(top) + 1))
        counts[series.get(row["domain"], len(top))] += row["visits"]
    first, last = min(per_day), max(per_day)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    highest = max(sum(counts) for counts in per_day.values())
    width = CHART_WIDTH / len(days)
    bars = []
    for index, day in enumerate(days):
        counts = per_day.get(day, [0] * (len(top) + 1))
        y, segments = float(CHART_HEIGHT), []
        for kind, visits in enumerate(counts):
            height = CHART_HEIGHT * visits / highest
            y -= height
            if visits:
                segments.append({"kind": kind, "y": f"{y:.1f}", "height": f"{height:.1f}"})
        bars.append({"day": day, "total": sum(counts), "x": f"{index * width:.1f}", "segments": segments})
    legend = [{"kind": index, "domain": domain} for domain, index in series.items()]
    if len(totals) > len(top):
        legend.append({"kind": len(top), "domain": None})  # the other domains
    return {
        "bars": bars,
        "bar_width": f"{max(width - 1, 1):.1f}",
        "legend": legend,
        "highest": highest,
        "first": first,
        "last": last,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


@require_GET
def referrers(request: HttpRequest) -> HttpResponse:
    report = platform.referrers()
    history = platform.click_history(HISTORY_DAYS, HISTORY_WEEKS)
    day = report["day"]
    context = {
        "day_start": day["bucket_start"],
        "day_domains": with_bars(day["domains"]),
        "day_visits": sum(row["visits"] for row in day["domains"]),
        # Newest hour first: the latest counts are what a reader looks for.
        "hours": [hour_row(bucket) for bucket in reversed(report["hours"])],
        "history_computed_at": history["computed_at"],
        "history_chart": history_chart(history["days"]),
        "history_weeks": list(reversed(history["weeks"])),  # this week first
    }
    return render(request, "web/analytics.html", context)
