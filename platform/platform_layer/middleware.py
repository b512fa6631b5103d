"""Request middleware shared by every platform endpoint."""

import hmac
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

Handler = Callable[[HttpRequest], HttpResponse]

# Probes come from the load balancer and Docker, and /metrics from Prometheus, which
# hold no token.
OPEN_PATHS = ("/healthz", "/readyz", "/metrics")


def served_by(get_response: Handler) -> Handler:
    """Name the node that answered, so the balancing across the pool is visible."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response["X-Served-By"] = settings.NODE_NAME
        return response

    return middleware


def require_api_token(get_response: Handler) -> Handler:
    """Refuse callers that do not present the shared secret of the web tier."""
    # Without a token configured, nothing but the open paths is answered.
    expected = f"Bearer {settings.PLATFORM_API_TOKEN}".encode() if settings.PLATFORM_API_TOKEN else None

    def middleware(request: HttpRequest) -> HttpResponse:
        if request.path not in OPEN_PATHS:
            if expected is None:
                return JsonResponse(
                    {"detail": "This process serves no API (no PLATFORM_API_TOKEN)."}, status=401
                )
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JsonResponse({"detail": "Missing or wrong API token."}, status=401)
        return get_response(request)

    return middleware
