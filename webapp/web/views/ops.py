"""Operations: liveness, readiness and each tier's state.

/status (and /status.json) shows anyone the states and figures of each tier: the
platform's status as it lets anyone see it, and this node's own (its name, how it
reaches the platform, each platform node's breaker). Versions, addresses, WAL
positions and the raw text of errors are for operators: /status/detail, shown to a
logged-in member the platform says is one (news.operators on the platform).
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from web.errors import error_page
from web.platform_client import PlatformUnavailable, platform

log = logging.getLogger(__name__)

DEAD_LETTER = ".dead-letter"
# How long this process serves the platform's status again rather than ask for it on
# every hit of /status (the platform computes it at most once a second too).
STATUS_LIFETIME = 1.0  # seconds

Answer = tuple[dict, str | None]  # the platform's status, and the platform node that gave it


class _OncePerLifetime:
    """`ask`'s answer, asked at most once per `lifetime` seconds in this process.
    Callers that arrive while it is asked wait for that answer, a PlatformUnavailable
    included: a platform that does not answer costs them one timeout, not one each.
    After a failure, the next caller asks again."""

    def __init__(self, ask: Callable[[], Answer], lifetime: float) -> None:
        self._ask = ask
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._answer: Answer = ({}, None)
        self._until = 0.0  # time.monotonic() until which _answer is served
        self._failure: PlatformUnavailable | None = None
        self._failed_at = 0.0

    def __call__(self) -> Answer:
        asked = time.monotonic()
        with self._lock:
            if time.monotonic() < self._until:
                return self._answer
            if self._failure is not None and self._failed_at >= asked:
                raise self._failure  # it failed while this caller waited: as fresh as its own try
            try:
                answer = self._ask()
            except PlatformUnavailable as failure:
                self._failure, self._failed_at = failure, time.monotonic()
                raise
            self._answer, self._until = answer, time.monotonic() + self._lifetime
            return answer


def ask_platform() -> Answer:
    return platform.status(), platform.last_node


public_status = _OncePerLifetime(ask_platform, STATUS_LIFETIME)


def status_page(request: HttpRequest) -> HttpResponse:
    """Each tier's state as this web node sees it, for anyone: the seed of the live dashboard."""
    data, platform_node = public_status()
    return _status(request, data, platform_node, detail=False)


def status_detail(request: HttpRequest) -> HttpResponse:
    """The same, with versions, addresses, WAL positions and raw errors: for a logged-in
    operator only (the platform refuses any other member: a 403 page with its reason)."""
    if not request.member:
        message = "Log in with an operator's account to see the detailed status."
        return error_page(request, 403, "Operators only", message)
    data = platform.status_detail(request.member)
    return _status(request, data, platform.last_node, detail=True)


def _status(
    request: HttpRequest, platform_status: dict, platform_node: str | None, detail: bool
) -> HttpResponse:
    data = {
        "web_node": settings.NODE_NAME,
        "platform_node": platform_node,
        # How this web node reaches the platform; in smart mode, what this worker
        # process knows of each platform node (gunicorn workers learn separately).
        "platform_client": platform.nodes.state(addresses=detail),
        **platform_status,
    }
    if request.path.endswith(".json"):
        return JsonResponse(data)
    context = {"status": data, "queues": queues(data), "detail": detail, "platform_node": platform_node}
    return render(request, "web/status.html", context)


def queues(status: dict) -> list[dict] | None:
    """The broker's queues, work queues first, each marked when it holds dead letters:
    messages that failed for good and wait for a person. None when RabbitMQ did not answer."""
    found = status["dependencies"].get("rabbitmq", {}).get("queues")
    if found is None:
        return None
    marked = [{**queue, "dead_letter": queue["name"].endswith(DEAD_LETTER)} for queue in found]
    return sorted(marked, key=lambda queue: (queue["dead_letter"], queue["name"]))


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness, what HAProxy checks: this node serves pages. It does not call the
    platform, so a platform outage never takes every web node out of rotation."""
    return JsonResponse({"status": "ok", "node": settings.NODE_NAME})


def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: this node can reach the platform pool (why not goes to the log only:
    it names addresses, and anyone may ask)."""
    try:
        platform.get("/readyz")
    except PlatformUnavailable as exc:
        log.warning("not ready: %s", exc)
        return JsonResponse({"ready": False, "platform": "unavailable"}, status=503)
    return JsonResponse({"ready": True})
