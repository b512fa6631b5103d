"""Operations: liveness, readiness and each tier's state."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from web.platform_client import PlatformUnavailable, platform

DEAD_LETTER = ".dead-letter"


def status_page(request: HttpRequest) -> HttpResponse:
    """Each tier's state as this web node sees it: the seed of the live dashboard."""
    data = platform.status()
    data = {
        "web_node": settings.NODE_NAME,
        "platform_node": platform.last_node,
        # How this web node reaches the platform; in smart mode, what this worker
        # process knows of each platform node (gunicorn workers learn separately).
        "platform_client": platform.nodes.state(),
        **data,
    }
    if request.path.endswith(".json"):
        return JsonResponse(data)
    return render(request, "web/status.html", {"status": data, "queues": queues(data)})


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
    """Readiness: this node can reach the platform pool."""
    try:
        platform.get("/readyz")
    except PlatformUnavailable as exc:
        return JsonResponse({"ready": False, "platform": str(exc)}, status=503)
    return JsonResponse({"ready": True})
