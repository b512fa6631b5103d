"""Who acts: declared once per route (its `auth`), never checked again inside a handler.

The calling product acts for a member by sending the assertion the platform signed
when that member logged in, in the `X-Member-Assertion` header (signins.assertions).
The web tier's API token (platform_layer.middleware) says who calls; the assertion
says for whom, and only the platform can make one. A route asks for one of:

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
from signins import assertions

HEADER = assertions.HEADER
# An assertion is about 100 characters; anything much longer is not one.
MAX_LENGTH = 500


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
    """The member the call's assertion acts for; a 401 without a good one."""
    raw = request.headers.get(HEADER, "")
    if not raw:
        raise HttpError(401, f"Log in first: this call needs a member's assertion ({HEADER}).")
    user_id = assertions.member_id(raw) if len(raw) <= MAX_LENGTH else None
    if user_id is None:
        raise HttpError(401, "This sign-in is not valid (logged out, expired or forged): log in again.")
    if members.get_user(user_id) is None:
        raise HttpError(401, f"No member {user_id}: log in again.")
    return Member(user_id)


def owner(request: HttpRequest) -> Member:
    """The acting member, who must be the one the path names; a 403 for anyone else."""
    actor = member(request)
    match = request.resolver_match
    user_id = match.kwargs["user_id"] if match else None
    if actor.id != user_id:
        raise Forbidden(f"Only member {user_id} may do this: it is their own.")
    return actor


def anyone(request: HttpRequest) -> Visitor:
    """The acting member when the call carries an assertion, else a visitor who is not logged in."""
    return Visitor(member(request).id if request.headers.get(HEADER) else None)
