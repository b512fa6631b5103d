"""Members: sign-up, login, profiles and pictures."""

from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import StringConstraints

from news import members
from news.api import auth
from news.api.fields import LoginName, LoginPassword, Name, Password, Text, Username
from news.api.schemas import Detail, SignedInOut, UserOut
from news.errors import NotFound
from signins import assertions

router = Router(tags=["members"])


class SignUpIn(Schema):
    username: Username
    password: Password
    name: Name = ""


class LoginIn(Schema):
    username: LoginName
    password: LoginPassword


class ProfileIn(Schema):
    name: Name | None = None
    bio: Annotated[Text, StringConstraints(max_length=500, strip_whitespace=True)] | None = None


@router.post("/users", response={201: SignedInOut, 409: Detail}, summary="Sign up (and log in)")
def sign_up(request: HttpRequest, body: SignUpIn):
    user = members.create_user(body.username, body.password, body.name)
    return Status(201, {**user, "assertion": assertions.issue(user["id"])})


@router.post(
    "/auth/login",
    response={200: SignedInOut, 401: Detail, 429: Detail},
    summary="Check a password; log in",
    description="A member whose account had too many wrong passwords in a row must wait: 429, Retry-After.",
)
def log_in(request: HttpRequest, body: LoginIn):
    user = members.authenticate(body.username, body.password)
    if user is None:
        return Status(401, {"detail": "Wrong username or password."})
    return {**user, "assertion": assertions.issue(user["id"])}


@router.get("/auth/me", response={200: UserOut, 401: Detail}, auth=auth.member, summary="The acting member")
def who_am_i(request: auth.MemberRequest):
    """The member the call's assertion acts for: a 401 once they logged out."""
    return members.get_user(request.auth.id)


@router.post("/auth/logout", response={204: None, 401: Detail}, auth=auth.member, summary="Log out")
def log_out(request: HttpRequest):
    """Revoke the assertion this call carries: no node accepts it any more."""
    assertions.revoke(request.headers[auth.HEADER])
    return Status(204, None)


@router.get("/users/{int:user_id}", response={200: UserOut, 404: Detail})
def get_user(request: HttpRequest, user_id: int):
    user = members.get_user(user_id)
    if user is None:
        raise NotFound(f"No member {user_id}.")
    return user


@router.get("/users/by-username/{username}", response={200: UserOut, 404: Detail})
def get_user_by_username(request: HttpRequest, username: str):
    user = members.get_user_by_username(username)
    if user is None:
        raise NotFound(f"No member named {username!r}.")
    return user


@router.patch("/users/{int:user_id}", response={200: UserOut, 403: Detail, 404: Detail}, auth=auth.owner)
def update_profile(request: HttpRequest, user_id: int, body: ProfileIn):
    return members.update_profile(user_id, **body.dict(exclude_none=True))


@router.post(
    "/users/{int:user_id}/avatar", response={200: UserOut, 403: Detail, 404: Detail}, auth=auth.owner
)
def upload_avatar(request: HttpRequest, user_id: int, image: File[UploadedFile]):
    return members.set_avatar(user_id, image)


@router.get("/users/{int:user_id}/avatar", response={200: None, 404: Detail})
def get_avatar(request: HttpRequest, user_id: int):
    image, content_type = members.get_avatar(user_id)
    return HttpResponse(image, content_type=content_type)
