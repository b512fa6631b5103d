"""Who is logged in, without a database: the member lives in the signed-cookie session.

The session holds the member's id, username and name, signed with WEB_SECRET_KEY, so
any web node can read it and none needs to ask anyone. The platform checks passwords.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

SESSION_KEY = "member"


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str


def log_in(request: HttpRequest, user: dict) -> None:
    # A new session on login: a session fixed before it must not become the member's.
    request.session.cycle_key()
    remember(request, user)


def remember(request: HttpRequest, user: dict) -> None:
    """Store (or refresh, after a profile edit) the member in the session."""
    request.session[SESSION_KEY] = {"id": user["id"], "username": user["username"], "name": user["name"]}


def log_out(request: HttpRequest) -> None:
    request.session.flush()


def _member(request: HttpRequest) -> Member | None:
    data = request.session.get(SESSION_KEY)
    return Member(**data) if isinstance(data, dict) else None


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
