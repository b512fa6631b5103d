"""This platform node's figures for Prometheus, and the platform's own state.

Per node, counted as they happen: the requests it answered (by view, method and
status, and how long they took) and its cache lookups (hits and misses per named
cache: news.cache). gunicorn runs several worker processes; in prometheus_client's
multiprocess mode each writes its counts to files in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py sets it) and /metrics adds them up.

Read when Prometheus asks (PlatformState): the outbox's backlog and the last slot of
each scheduled job with the cron container that published it. Every node reports
the same figures, read from Postgres; the dashboard takes either.

Probes are not traffic: /healthz, /readyz and /metrics are not counted.
Why not django-prometheus: it exports some twenty families per view (body sizes,
exceptions, template names), which cost every request and which nothing here reads.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "http_requests_total", "Requests answered, by view, method and status.", ["view", "method", "code"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
CACHE_LOOKUPS = Counter(
    "platform_cache_lookups_total",
    "Keys looked up in the cache Redis, by named cache and result (an error counts as a miss).",
    ["cache", "result"],
)
NOT_TRAFFIC = {"healthz", "readyz", "metrics"}


def count_requests(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Outermost middleware: every answer, errors included, is counted once."""

    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        match = request.resolver_match
        view = (match.url_name or match.view_name) if match else "unmatched"
        if view not in NOT_TRAFFIC:
            REQUESTS.labels(view, request.method, str(response.status_code)).inc()
            LATENCY.labels(view).observe(time.perf_counter() - started)
        return response

    return middleware


def count_cache_lookups(cache_name: str, hits: int, misses: int) -> None:
    if hits:
        CACHE_LOOKUPS.labels(cache_name, "hit").inc(hits)
    if misses:
        CACHE_LOOKUPS.labels(cache_name, "miss").inc(misses)


class PlatformState(Collector):
    """The outbox and the scheduled jobs, read from Postgres when Prometheus asks. A
    failed read leaves its families out (the dashboard says "no data") and reports
    platform_state_read_ok 0."""

    def collect(self) -> Iterator[Metric]:
        from jobs import outbox  # the apps, once Django is set up
        from jobs.models import JobRun

        ok = GaugeMetricFamily("platform_state_read_ok", "1 if the platform's state was read from Postgres.")
        try:
            backlog = outbox.backlog()
            runs = list(JobRun.objects.latest_per_job().values_list("job", "slot", "published_by"))
        except Exception:  # Postgres away: the node's own counters are still worth a scrape
            log.warning("metrics: the platform's state could not be read", exc_info=True)
            ok.add_metric([], 0)
            yield ok
            return
        ok.add_metric([], 1)
        yield ok
        yield GaugeMetricFamily(
            "platform_outbox_waiting", "Messages in the outbox, not yet published.", value=backlog["waiting"]
        )
        yield GaugeMetricFamily(
            "platform_outbox_oldest_seconds",
            "Age of the oldest message waiting.",
            value=backlog["oldest_seconds"],
        )
        slots = GaugeMetricFamily(
            "jobs_last_slot_timestamp_seconds",
            "Start of the last schedule slot each job ran for, and which cron container published it.",
            # (not `job`: Prometheus gives that label to the scrape job)
            labels=["task", "published_by"],
        )
        for job, slot, published_by in runs:
            slots.add_metric([job, published_by or "unknown"], slot.timestamp())
        yield slots


_state = CollectorRegistry(auto_describe=False)
_state.register(PlatformState())


def export(request: HttpRequest) -> HttpResponse:
    """What Prometheus scrapes: every worker process's counts added up, and the state."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:  # one process (tests, manage.py runserver)
        registry = REGISTRY
    return HttpResponse(generate_latest(registry) + generate_latest(_state), content_type=CONTENT_TYPE_LATEST)
