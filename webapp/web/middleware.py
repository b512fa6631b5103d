from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from web.platform_client import platform


def served_by(get_response: Callable[[HttpRequest], HttpResponse]):
    """Name the web node that answered, so the edge load balancer's work is visible."""

    def middleware(request: HttpRequest) -> HttpResponse:
        platform.forget_node()  # this thread's previous request must not sign this page
        response = get_response(request)
        response["X-Served-By"] = settings.NODE_NAME
        return response

    return middleware


def node_name(request: HttpRequest | None = None) -> dict[str, str | None]:
    """Template context: the nodes printed in every page's footer (this one, and the
    platform node that answered the page's latest platform call, if any)."""
    return {"web_node": settings.NODE_NAME, "platform_node": platform.last_node}
