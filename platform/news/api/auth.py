"""Who acts: declared once per route (its `auth`), never checked again inside a handler.

The calling product names the member it acts for in the `X-Acting-User` header; the
platform trusts that header because the caller presented the web tier's API token
(platform_layer.middleware). A route asks for one of:

- `member`: a member must act;
- `owner`: a member must act, and it must be the member the path names
  (`/users/{user_id}/...`): a home timeline, an export, a profile are their own;
- `anyone`: a member may act or not (a click through by a visitor who is not logged in).

The handler finds the actor in `request.auth`; `request.auth.id` is None for nobody.
These are plain callables, so the OpenAPI schema is the same as without them.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.errors import HttpError

from news import members
from news.errors import Forbidden

HEADER = "X-Acting-User"


@dataclass(frozen=True)
class Actor:
    id: int | None


def member(request: HttpRequest) -> Actor:
    """The acting member, read through the cache (usually no query); a 401 without one."""
    raw = request.headers.get(HEADER, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise HttpError(401, f"Log in first: this call needs the {HEADER} header.")
    if members.get_user(int(raw)) is None:
        raise HttpError(401, f"No member {raw}: log in again.")
    return Actor(int(raw))


def owner(request: HttpRequest) -> Actor:
    """The acting member, who must be the one the path names; a 403 for anyone else."""
    actor = member(request)
    user_id = request.resolver_match.kwargs["user_id"]
    if actor.id != user_id:
        raise Forbidden(f"Only member {user_id} may do this: it is their own.")
    return actor


def anyone(request: HttpRequest) -> Actor:
    """The acting member when the header names one, else nobody."""
    return member(request) if request.headers.get(HEADER) else Actor(None)
