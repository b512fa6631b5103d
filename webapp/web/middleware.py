from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from web.platform_client import platform


def served_by(get_response: Callable[[HttpRequest], HttpResponse]):
    """Name the web node that answered, so the edge load balancer's work is visible."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["X-Served-By"] = settings.NODE_NAME
        return response

    return middleware


# The WAL position of the visitor's latest write (see web.platform_client).
READ_AFTER_COOKIE = "read_after"


def platform_calls(get_response: Callable[[HttpRequest], HttpResponse]):
    """Each request starts the platform client afresh on its thread (nothing left by
    the previous request may sign this page). Read-your-own-writes: a visitor sees
    their writes at once even when their next page is read from a replica that lags,
    as the position of their latest write travels in a cookie."""

    def middleware(request: HttpRequest) -> HttpResponse:
        platform.start_request(read_after=request.COOKIES.get(READ_AFTER_COOKIE))
        response = get_response(request)
        if platform.written:
            response.set_cookie(READ_AFTER_COOKIE, platform.written, httponly=True, samesite="Lax")
        return response

    return middleware


def node_name(request: HttpRequest | None = None) -> dict[str, str | None]:
    """Template context: the nodes printed in every page's footer (this one, and the
    platform node that answered the page's latest platform call, if any)."""
    return {"web_node": settings.NODE_NAME, "platform_node": platform.last_node}
