"""Who acts: declared once per route (its `auth`), never checked again inside a handler.

The calling product names the member it acts for in the `X-Acting-User` header; the
platform trusts that header because the caller presented the web tier's API token
(platform_layer.middleware). A route asks for one of:

- `member`: a member must act;
- `owner`: a member must act, and it must be the member the path names
  (`/users/{user_id}/...`): a home timeline, an export, a profile are their own;
- `anyone`: a member may act or not (a click through by a visitor who is not logged in).

The handler finds who acts in `request.auth`: a `Member` for the first two, a
`Visitor` for `anyone` (annotate the handler's request as `MemberRequest` or
`VisitorRequest` to have it typed). These are plain callables, so the OpenAPI schema
is the same as without them.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from ninja.errors import HttpError

from news import members
from news.errors import Forbidden

HEADER = "X-Acting-User"


@dataclass(frozen=True)
class Member:
    id: int


@dataclass(frozen=True)
class Visitor:
    member_id: int | None  # None: not logged in


class MemberRequest(HttpRequest):
    """What a handler behind `member` or `owner` receives."""

    auth: Member


class VisitorRequest(HttpRequest):
    """What a handler behind `anyone` receives."""

    auth: Visitor


def member(request: HttpRequest) -> Member:
    """The acting member, read through the cache (usually no query); a 401 without one."""
    raw = request.headers.get(HEADER, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise HttpError(401, f"Log in first: this call needs the {HEADER} header.")
    if members.get_user(int(raw)) is None:
        raise HttpError(401, f"No member {raw}: log in again.")
    return Member(int(raw))


def owner(request: HttpRequest) -> Member:
    """The acting member, who must be the one the path names; a 403 for anyone else."""
    actor = member(request)
    match = request.resolver_match
    user_id = match.kwargs["user_id"] if match else None
    if actor.id != user_id:
        raise Forbidden(f"Only member {user_id} may do this: it is their own.")
    return actor


def anyone(request: HttpRequest) -> Visitor:
    """The acting member when the header names one, else a visitor who is not logged in."""
    return Visitor(member(request).id if request.headers.get(HEADER) else None)
