"""This web node's figures for Prometheus: the requests it answered, by view, method
and status, and how long they took (the dashboard's p95 and error rate).

gunicorn runs several worker processes, each counting its own requests: in
prometheus_client's multiprocess mode each writes its counts to files in
PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it) and /metrics adds them up.
Probes are not traffic: /healthz, /readyz and /metrics are not counted.

Why not django-prometheus: it exports some twenty families per view (body sizes,
exceptions, template names), which cost every request and which nothing here reads.
"""

import os
import time
from collections.abc import Callable

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

REQUESTS = Counter(
    "http_requests_total", "Requests answered, by view, method and status.", ["view", "method", "code"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
NOT_TRAFFIC = {"healthz", "readyz", "metrics"}


def count_requests(get_response: Callable[[HttpRequest], HttpResponse]):
    """Outermost middleware: every answer, error pages included, is counted once."""

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


def export(request: HttpRequest) -> HttpResponse:
    """What Prometheus scrapes: every worker process's counts, added up."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:  # one process (tests, manage.py runserver)
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
