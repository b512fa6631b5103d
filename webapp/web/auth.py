"""Who is logged in, without a database: the member lives in the signed-cookie session.

The session holds the member's id, username and name, signed with WEB_SECRET_KEY, so
any web node can read it and none needs to ask anyone. The platform checks passwords
and, at login, signs an assertion that it alone can make (its key is not this tier's):
the session keeps it, and every call made for the member sends it, so the platform
acts only for members who logged in. Logging out revokes it on the platform, so a
copy of the cookie taken before is refused after.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from web.platform_client import PlatformError, PlatformUnavailable, platform

log = logging.getLogger(__name__)

SESSION_KEY = "member"


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str
    assertion: str  # signed by the platform at login: what lets this tier act for them


def log_in(request: HttpRequest, user: dict) -> None:
    """Start the member's session with the user the platform logged in (its `assertion` included)."""
    # A new session on login: a session fixed before it must not become the member's.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"assertion": user["assertion"]}
    remember(request, user)


def remember(request: HttpRequest, user: dict) -> None:
    """Store (or refresh, after a profile edit) the member's names in the session."""
    session = request.session[SESSION_KEY]
    request.session[SESSION_KEY] = {
        **session,
        "id": user["id"],
        "username": user["username"],
        "name": user["name"],
    }


def log_out(request: HttpRequest) -> None:
    """End the session here, and revoke its assertion on the platform."""
    member = request.member
    if member:
        try:
            platform.log_out(member)
        except (PlatformError, PlatformUnavailable) as exc:
            # The cookie still goes; a copy of it keeps working until the assertion expires.
            log.warning(
                "member %s logged out here, but the platform did not revoke the sign-in: %s", member.id, exc
            )
    request.session.flush()


def _member(request: HttpRequest) -> Member | None:
    data = request.session.get(SESSION_KEY)
    # A session from before assertions existed has none: its member logs in again.
    if not isinstance(data, dict) or not isinstance(data.get("assertion"), str) or "id" not in data:
        return None
    return Member(id=data["id"], username=data["username"], name=data["name"], assertion=data["assertion"])


def member_middleware(get_response: Callable[[HttpRequest], HttpResponse]):
    """Give views `request.member`. Lazy, so a response that never asks (an avatar)
    does not read the session and is not marked `Vary: Cookie`."""

    def middleware(request: HttpRequest) -> HttpResponse:
        request.member = SimpleLazyObject(lambda: _member(request))
        return get_response(request)

    return middleware


def login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send anonymous visitors to the login page, and back here afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.member:
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper
