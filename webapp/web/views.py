from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from web.platform_client import PlatformUnavailable, platform

PAGE_SIZE = 20
MAX_PAGE = 500


def _page_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("page", "1")
    # ASCII digits only: str.isdigit() would accept "²" or full-width digits.
    return int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else None


def home(request: HttpRequest) -> HttpResponse:
    """Newest stories, from Postgres through the platform layer."""
    page = _page_number(request)
    if page is None:
        return render(
            request,
            "web/error.html",
            {"title": "Bad page number", "message": f"'page' must be a whole number from 1 to {MAX_PAGE}."},
            status=400,
        )
    try:
        data, platform_node = platform.stories(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    except PlatformUnavailable:
        return _platform_down(request)
    return render(
        request,
        "web/home.html",
        {
            "stories": data["items"],
            "page": page,
            "first_rank": (page - 1) * PAGE_SIZE + 1,
            "has_more": data["has_more"],
            "platform_node": platform_node,
        },
    )


def status_page(request: HttpRequest) -> HttpResponse:
    """Each tier's state as this web node sees it: the seed of the live dashboard."""
    try:
        data, platform_node = platform.status()
    except PlatformUnavailable:
        return _platform_down(request)
    data = {"web_node": settings.NODE_NAME, "platform_node": platform_node, **data}
    if request.path.endswith(".json"):
        return JsonResponse(data)
    return render(request, "web/status.html", {"status": data, "platform_node": platform_node})


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


def _platform_down(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "Platform unavailable", "message": "The platform layer did not answer. Try again shortly."},
        status=503,
    )
