"""Error pages. Bad input is a 4xx page with a reason, a dead platform a 503, never a 500.

Views raise; ErrorPages turns what they raise into a page in the site's template,
or into a JSON error under /api/, the public API.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import reverse
from django.utils.http import urlencode

from web.platform_client import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PlatformUnavailable,
    ValidationFailed,
)

log = logging.getLogger(__name__)

# A 503's Retry-After when the platform named none (haproxy/edge.cfg's is the same).
RETRY_AFTER_SECONDS = 5


class BadRequest(Exception):
    """The request's parameters are wrong: a 400 that says why."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": title, "detail": message}, status=status)
    return render(request, "web/error.html", {"title": title, "message": message}, status=status)


class ErrorPages:
    """Middleware: what views raise, as an error page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, BadRequest):
            return error_page(request, 400, exc.title, exc.message)
        if isinstance(exc, PlatformUnavailable):
            log.warning("platform unavailable: %s", exc)
            message = exc.detail or "The platform layer did not answer. Try again shortly."
            page = error_page(request, 503, "Platform unavailable", message)
            # When to try again: what the platform asked for, else as the edge's own 503 says.
            page["Retry-After"] = str(exc.retry_after or RETRY_AFTER_SECONDS)
            return page
        if isinstance(exc, NotFound):
            return error_page(request, 404, "Not found", exc.detail)
        if isinstance(exc, NotAuthenticated):
            # A call that needs a member, made for a visitor, or for a member whose sign-in
            # the platform no longer accepts (logged out elsewhere, expired): log in first.
            if request.member:
                request.session.flush()
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        if isinstance(exc, Forbidden):
            return error_page(request, 403, "Not allowed", exc.detail)
        if isinstance(exc, Conflict):
            return error_page(request, 409, "Conflict", exc.detail)
        if isinstance(exc, ValidationFailed):
            reasons = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in exc.errors) or exc.detail
            return error_page(request, 400, "Bad request", reasons)
        return None  # a bug: Django's 500 handler


# Handlers for what Django itself raises (web/urls.py names them).


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Also a body past its bound (web.bodies): a 413 that says what fits."""
    if isinstance(exception, RequestDataTooBig):
        return error_page(
            request,
            413,
            "Too large",
            f"What you sent is larger than this site accepts (a picture: at most "
            f"{settings.AVATAR_MAX_BYTES // (1024 * 1024)} MB). Go back and send less.",
        )
    if isinstance(exception, TooManyFieldsSent):
        return error_page(request, 400, "Bad request", "The form or the address has too many fields.")
    return error_page(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, 403, "Not allowed", "You may not do that.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_page(request, 404, "Not found", "There is no page at this address.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(
        request,
        403,
        "Form expired",
        "The form was stale or came from another site. Reload the page and try again.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without the request, its session or the platform: whatever broke may be one of them."""
    html = loader.render_to_string("web/500.html", {"web_node": settings.NODE_NAME})
    return HttpResponseServerError(html)
