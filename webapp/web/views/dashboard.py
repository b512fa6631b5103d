"""The live architecture dashboard: the page, and the data it polls (web.dashboard)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from web import dashboard, diagram


def page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/dashboard.html",
        {
            "boxes": diagram.BOXES.values(),
            "arrows": diagram.ARROWS,
            "drills": diagram.DRILLS,
            "width": diagram.WIDTH,
            "height": diagram.HEIGHT,
        },
    )


def _shared(data: dict, seconds: int) -> JsonResponse:
    """The same answer for every visitor: the edge keeps it for a second (haproxy/edge.cfg)."""
    response = JsonResponse(data)
    response["Cache-Control"] = f"public, max-age={seconds}"
    return response


def data(request: HttpRequest) -> JsonResponse:
    return _shared(dashboard.snapshot(), 1)


def charts(request: HttpRequest) -> JsonResponse:
    # The page asks every five seconds; the edge keeps it one second, as the data.
    return _shared(dashboard.charts(), 5)
