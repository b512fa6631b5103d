from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def served_by(get_response: Callable[[HttpRequest], HttpResponse]):
    """Name the web node that answered, so the edge load balancer's work is visible."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["X-Served-By"] = settings.NODE_NAME
        return response

    return middleware


def node_name(request: HttpRequest) -> dict[str, str]:
    """Template context: the node's name, printed in every page's footer."""
    return {"web_node": settings.NODE_NAME}
