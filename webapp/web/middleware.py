import re
import uuid
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


# The WAL position of the visitor's latest write (see web.platform_client), signed with
# WEB_SECRET_KEY and this salt: a visitor cannot send a position far ahead, which would
# keep every read made for them on the primary. Past its age, the replica has long
# replayed it; a value longer than a signed position could be is not even checked.
READ_AFTER_COOKIE = "read_after"
READ_AFTER_SALT = "web.read-after"
READ_AFTER_MAX_AGE = 3600  # seconds
READ_AFTER_MAX_LENGTH = 100  # 17 characters of position, then a timestamp and a signature
# The hidden field of a write form ({% write_key %}) that names one filling-in of it.
WRITE_KEY_FIELD = "write_key"
# What the edge names each request with (haproxy/edge.cfg); the same on a retry of it.
REQUEST_ID_HEADER = "X-Request-ID"
_KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


def write_key(request: HttpRequest) -> str:
    """What names this request's writes, so that sending it again writes once: the
    form's write key; else the edge's request id (a click through, a GET the edge may
    retry on another node); else a new one."""
    for key in (
        request.POST.get(WRITE_KEY_FIELD, "") if request.method == "POST" else "",
        request.headers.get(REQUEST_ID_HEADER, ""),
    ):
        if _KEY.fullmatch(key):
            return key
    return uuid.uuid4().hex


def read_after(request: HttpRequest) -> str | None:
    """The position in the visitor's read_after cookie, if this site signed it within
    READ_AFTER_MAX_AGE; None for no cookie, or a forged, expired or oversized one (the
    platform client also ignores what is not a WAL position)."""
    if len(request.COOKIES.get(READ_AFTER_COOKIE, "")) > READ_AFTER_MAX_LENGTH:
        return None
    return request.get_signed_cookie(
        READ_AFTER_COOKIE, default=None, salt=READ_AFTER_SALT, max_age=READ_AFTER_MAX_AGE
    )


def platform_calls(get_response: Callable[[HttpRequest], HttpResponse]):
    """Each request starts the platform client afresh on its thread (nothing left by
    the previous request may sign this page). Read-your-own-writes: a visitor sees
    their writes at once even when their next page is read from a replica that lags,
    as the position of their latest write travels in a signed cookie. Writes are
    named by the request's write key, so a write sent again happens once."""

    def middleware(request: HttpRequest) -> HttpResponse:
        platform.start_request(read_after=read_after(request), write_key=write_key(request))
        try:
            response = get_response(request)
        finally:
            platform.finish_request()
        if platform.written:
            response.set_signed_cookie(
                READ_AFTER_COOKIE,
                platform.written,
                salt=READ_AFTER_SALT,
                max_age=READ_AFTER_MAX_AGE,
                httponly=True,
                samesite="Lax",
            )
        return response

    return middleware


def node_name(request: HttpRequest | None = None) -> dict[str, str | None]:
    """Template context: the nodes printed in every page's footer (this one, and the
    platform node that answered the page's latest platform call, if any)."""
    return {"web_node": settings.NODE_NAME, "platform_node": platform.last_node}
