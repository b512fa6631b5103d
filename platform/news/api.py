"""Version 1 of the platform's JSON API: what every product (the web tier, its public
API, a command-line client) reads and writes through. The OpenAPI schema is
generated from these signatures at /api/v1/openapi.json.

The calling product says which member acts in the `X-Acting-User` header; the
platform trusts it because the caller presented the web tier's token
(platform_layer.middleware).
"""

import io
import re
import uuid
from datetime import datetime
from typing import Annotated

from django.conf import settings
from django.core.validators import URLValidator
from django.core.validators import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, NinjaAPI, Query, Schema, Status
from ninja.errors import HttpError, ValidationError
from ninja.files import UploadedFile
from PIL import Image, UnidentifiedImageError
from pydantic import AfterValidator, StringConstraints

from jobs import outbox
from jobs.models import Export, JobRun
from news import exports, rollups, services, suggestions, timelines
from platform_layer import health

# A picture of more pixels than this is refused before it is decoded (a decompression bomb).
Image.MAX_IMAGE_PIXELS = 4096 * 4096

api = NinjaAPI(
    title="Platform API",
    version="1",
    description="The platform layer of the reference deployment: one API, several products.",
    urls_namespace="api-v1",
)


# --- Errors: bad input is the caller's mistake, a 4xx with a reason, never a 500 ---------


@api.exception_handler(ValidationError)
def bad_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(part) for part in error.get("loc", ())[1:]), "message": error.get("msg", "")}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": "Invalid request.", "errors": errors}, status=400)


def _error(status: int):
    def handler(request: HttpRequest, exc: Exception) -> HttpResponse:
        return api.create_response(request, {"detail": str(exc)}, status=status)

    return handler


class FieldError(Exception):
    """Bad input found after parsing (for example an upload that is not a picture)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@api.exception_handler(FieldError)
def field_error(request: HttpRequest, exc: FieldError) -> HttpResponse:
    errors = [{"field": exc.field, "message": str(exc)}]
    return api.create_response(request, {"detail": str(exc), "errors": errors}, status=400)


api.add_exception_handler(services.NotFound, _error(404))
api.add_exception_handler(services.Forbidden, _error(403))
api.add_exception_handler(services.Conflict, _error(409))


def acting_user(request: HttpRequest) -> int:
    """The member on whose behalf the product calls (read through the cache: usually no query)."""
    raw = request.headers.get("X-Acting-User", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise HttpError(401, "Log in first: this call needs the X-Acting-User header.")
    if services.get_user(int(raw)) is None:
        raise HttpError(401, f"No member {raw}: log in again.")
    return int(raw)


def _optional_acting_user(request: HttpRequest) -> int | None:
    return acting_user(request) if request.headers.get("X-Acting-User") else None


# --- Input types ------------------------------------------------------------------------


def _printable(value: str) -> str:
    """No NUL or other control characters (Postgres refuses NUL; the rest is never wanted)."""
    if any(ord(char) < 32 and char not in "\n\r\t" or 0x7F <= ord(char) < 0xA0 for char in value):
        raise ValueError("must not contain control characters")
    return value


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be a single line")
    return value


def _http_url(value: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError:
        raise ValueError("must be a full http:// or https:// address") from None
    return value


Text = Annotated[str, AfterValidator(_printable)]
Line = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_printable), AfterValidator(_single_line)
]
Username = Annotated[str, StringConstraints(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(_printable)]
Title = Annotated[Line, StringConstraints(min_length=1, max_length=200)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_http_url)]
Domain = Annotated[str, StringConstraints(max_length=253, pattern=r"^[A-Za-z0-9.\-]*$")]


class SignUpIn(Schema):
    username: Username
    password: Password
    name: Annotated[Line, StringConstraints(max_length=80)] = ""


class LoginIn(Schema):
    # Any name or password may be tried (a wrong one is a 401), but not one Postgres
    # cannot even compare (a NUL byte).
    username: Annotated[str, StringConstraints(max_length=30), AfterValidator(_printable)]
    password: Annotated[str, StringConstraints(max_length=128), AfterValidator(_printable)]


class ProfileIn(Schema):
    name: Annotated[Line, StringConstraints(max_length=80)] | None = None
    bio: Annotated[Text, StringConstraints(max_length=500, strip_whitespace=True)] | None = None


class StoryIn(Schema):
    title: Title
    url: Url
    text: Annotated[Text, StringConstraints(max_length=5000, strip_whitespace=True)] = ""


class StoryPatch(Schema):
    title: Title | None = None
    url: Url | None = None
    text: Annotated[Text, StringConstraints(max_length=5000, strip_whitespace=True)] | None = None


class ClickIn(Schema):
    referrer_domain: Domain = ""


class Page(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class SearchIn(Page):
    q: Annotated[Line, StringConstraints(min_length=1, max_length=100)]


# --- Output types ------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    username: str
    name: str
    bio: str
    followers_count: int
    following_count: int
    avatar_version: int
    date_joined: datetime
    version: int


class StoryOut(Schema):
    id: int
    title: str
    url: str
    text: str
    created_at: datetime
    version: int
    author: UserOut


class StoryPage(Schema):
    items: list[StoryOut]
    limit: int
    offset: int
    has_more: bool


class FollowState(Schema):
    following: bool


class ClickOut(Schema):
    url: str


class Suggestions(Schema):
    items: list[StoryOut]
    computed_at: datetime | None


class FanoutOut(Schema):
    delivered: int
    followers: int
    finished_at: datetime | None


class ExportOut(Schema):
    id: uuid.UUID
    status: str
    progress: int
    error: str
    created_at: datetime
    finished_at: datetime | None


class DomainVisits(Schema):
    domain: str
    visits: int


class Bucket(Schema):
    bucket_start: datetime
    domains: list[DomainVisits]


class ReferrersOut(Schema):
    day: Bucket
    hours: list[Bucket]


class Detail(Schema):
    detail: str


def _page(result: tuple[list[dict], bool], page: Page) -> dict:
    items, has_more = result
    return {"items": items, "limit": page.limit, "offset": page.offset, "has_more": has_more}


# --- Members ------------------------------------------------------------------------------


@api.post("/users", response={201: UserOut, 409: Detail}, summary="Sign up", tags=["members"])
def sign_up(request: HttpRequest, body: SignUpIn):
    return Status(201, services.create_user(body.username, body.password, body.name))


@api.post("/auth/login", response={200: UserOut, 401: Detail}, summary="Check a password", tags=["members"])
def log_in(request: HttpRequest, body: LoginIn):
    user = services.authenticate(body.username, body.password)
    if user is None:
        return Status(401, {"detail": "Wrong username or password."})
    return user


@api.get("/users/{int:user_id}", response={200: UserOut, 404: Detail}, tags=["members"])
def get_user(request: HttpRequest, user_id: int):
    user = services.get_user(user_id)
    if user is None:
        raise services.NotFound(f"No member {user_id}.")
    return user


@api.get("/users/by-username/{username}", response={200: UserOut, 404: Detail}, tags=["members"])
def get_user_by_username(request: HttpRequest, username: str):
    valid = re.fullmatch(r"[A-Za-z0-9_]{1,30}", username) is not None  # the sign-up alphabet
    user = services.get_user_by_username(username) if valid else None
    if user is None:
        raise services.NotFound(f"No member named {username!r}.")
    return user


@api.patch("/users/{int:user_id}", response={200: UserOut, 403: Detail, 404: Detail}, tags=["members"])
def update_profile(request: HttpRequest, user_id: int, body: ProfileIn):
    if acting_user(request) != user_id:
        raise services.Forbidden("Members edit their own profile only.")
    return services.update_profile(user_id, **body.dict(exclude_none=True))


@api.post("/users/{int:user_id}/avatar", response={200: UserOut, 403: Detail, 404: Detail}, tags=["members"])
def upload_avatar(request: HttpRequest, user_id: int, image: File[UploadedFile]):
    if acting_user(request) != user_id:
        raise services.Forbidden("Members change their own picture only.")
    return services.set_avatar(user_id, _square_png(image))


def _square_png(upload: UploadedFile) -> bytes:
    """Re-encode an uploaded picture as a small PNG; refuse what is not a picture."""
    if upload.size > settings.AVATAR_MAX_BYTES:
        raise FieldError("image", f"The picture is larger than {settings.AVATAR_MAX_BYTES // 1024} KB.")
    try:
        with Image.open(upload) as picture:
            if picture.format not in ("PNG", "JPEG", "GIF", "WEBP"):
                raise FieldError("image", "The picture must be a PNG, JPEG, GIF or WebP image.")
            picture.thumbnail((256, 256))
            output = io.BytesIO()
            picture.convert("RGBA").save(output, format="PNG", optimize=True)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise FieldError("image", "The file is not a picture this site can read.") from None
    return output.getvalue()


@api.get("/users/{int:user_id}/avatar", response={200: None, 404: Detail}, tags=["members"])
def get_avatar(request: HttpRequest, user_id: int):
    avatar = services.get_avatar(user_id)
    if avatar is None:
        raise services.NotFound(f"Member {user_id} has no picture.")
    image, content_type = avatar
    return HttpResponse(image, content_type=content_type)


@api.get("/users/{int:user_id}/follow", response=FollowState, tags=["follows"])
def follow_state(request: HttpRequest, user_id: int):
    return {"following": services.is_following(acting_user(request), user_id)}


@api.post("/users/{int:user_id}/follow", response={200: UserOut, 404: Detail, 409: Detail}, tags=["follows"])
def follow(request: HttpRequest, user_id: int):
    """The acting member follows this one; returns the followed member."""
    return services.follow(acting_user(request), user_id)


@api.delete("/users/{int:user_id}/follow", response={200: UserOut, 404: Detail}, tags=["follows"])
def unfollow(request: HttpRequest, user_id: int):
    return services.unfollow(acting_user(request), user_id)


@api.get("/users/{int:user_id}/stories", response=StoryPage, tags=["stories"])
def stories_by(request: HttpRequest, user_id: int, page: Query[Page]):
    return _page(services.stories_by(user_id, page.limit, page.offset), page)


@api.get("/users/{int:user_id}/timeline", response={200: StoryPage, 403: Detail}, tags=["stories"])
def timeline(request: HttpRequest, user_id: int, page: Query[Page]):
    """The stories of the members this one follows, newest first."""
    if acting_user(request) != user_id:
        raise services.Forbidden("A home timeline is its member's own.")
    return _page(services.timeline(user_id, page.limit, page.offset), page)


@api.get("/users/{int:user_id}/suggestions", response={200: Suggestions, 403: Detail}, tags=["stories"])
def get_suggestions(request: HttpRequest, user_id: int):
    """Suggested stories, pre-generated off-line from clicks and follows (news.suggestions)."""
    if acting_user(request) != user_id:
        raise services.Forbidden("Suggestions are their member's own.")
    story_ids, computed_at = suggestions.get(user_id)
    return {"items": services.get_stories(story_ids), "computed_at": computed_at}


# --- Exports: schedule, then poll -----------------------------------------------------------


@api.post("/users/{int:user_id}/exports", response={202: ExportOut, 403: Detail}, tags=["exports"])
def request_export(request: HttpRequest, user_id: int):
    """Ask for a copy of one's data. Answers at once with the job; poll it until `done`."""
    if acting_user(request) != user_id:
        raise services.Forbidden("Members export their own data only.")
    return Status(202, exports.request(user_id))


def _own_export(request: HttpRequest, export_id: uuid.UUID) -> Export:
    export = exports.get(export_id, acting_user(request))
    if export is None:
        raise services.NotFound(f"No export {export_id}.")
    return export


@api.get("/exports/{uuid:export_id}", response={200: ExportOut, 404: Detail}, tags=["exports"])
def get_export(request: HttpRequest, export_id: uuid.UUID):
    return _own_export(request, export_id)


@api.get(
    "/exports/{uuid:export_id}/download", response={200: None, 404: Detail, 409: Detail}, tags=["exports"]
)
def download_export(request: HttpRequest, export_id: uuid.UUID):
    """The export's JSON document, once its status is `done`."""
    export = _own_export(request, export_id)
    if export.status != Export.DONE:
        raise services.Conflict(f"The export is {export.status}, not ready yet.")
    document = Export.objects.values_list("result", flat=True).get(pk=export.pk)
    response = HttpResponse(bytes(document), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="scale-news-export-{export.created_at:%Y%m%d}.json"'
    )
    return response


# --- Stories ------------------------------------------------------------------------------


@api.get("/stories", response=StoryPage, summary="Newest stories first", tags=["stories"])
def list_stories(request: HttpRequest, page: Query[Page]):
    return _page(services.newest(page.limit, page.offset), page)


@api.post("/stories", response={201: StoryOut}, summary="Post a story", tags=["stories"])
def post_story(request: HttpRequest, body: StoryIn):
    return Status(201, services.create_story(acting_user(request), body.title, body.url, body.text))


@api.get("/stories/{int:story_id}/fanout", response={200: FanoutOut, 404: Detail}, tags=["stories"])
def fanout_progress(request: HttpRequest, story_id: int):
    """How many of its author's followers have the story in their timeline yet."""
    services.get_story(story_id)  # 404 for a story that does not exist
    return timelines.progress(story_id)


@api.get("/stories/{int:story_id}", response={200: StoryOut, 404: Detail}, tags=["stories"])
def get_story(request: HttpRequest, story_id: int):
    return services.get_story(story_id)


@api.patch("/stories/{int:story_id}", response={200: StoryOut, 403: Detail, 404: Detail}, tags=["stories"])
def edit_story(request: HttpRequest, story_id: int, body: StoryPatch):
    return services.update_story(story_id, acting_user(request), **body.dict(exclude_none=True))


@api.delete("/stories/{int:story_id}", response={204: None, 403: Detail, 404: Detail}, tags=["stories"])
def delete_story(request: HttpRequest, story_id: int):
    services.delete_story(story_id, acting_user(request))
    return Status(204, None)


@api.post("/stories/{int:story_id}/clicks", response={200: ClickOut, 404: Detail}, tags=["stories"])
def click(request: HttpRequest, story_id: int, body: ClickIn):
    """Record a click through to the story; returns where to send the reader."""
    return {"url": services.record_click(story_id, _optional_acting_user(request), body.referrer_domain)}


@api.get("/search", response=StoryPage, summary="Search story titles", tags=["stories"])
def search(request: HttpRequest, query: Query[SearchIn]):
    return _page(services.search(query.q, query.limit, query.offset), query)


# --- Analytics: precalculated results ----------------------------------------------------


@api.get("/analytics/referrers", response=ReferrersOut, tags=["analytics"])
def referrers(request: HttpRequest):
    """Visits per referring domain: yesterday's total and the last 24 hours, from the rollups."""
    return rollups.report()


# --- Operations ---------------------------------------------------------------------------


class JobRunOut(Schema):
    job: str
    slot: datetime
    published_by: str
    consumed_by: str
    finished_at: datetime


class OutboxOut(Schema):
    waiting: int
    oldest_seconds: float


class StatusOut(Schema):
    node: str
    dependencies: dict
    caches: dict
    outbox: OutboxOut
    last_runs: list[JobRunOut]


@api.get("/status", response=StatusOut, summary="State of this node and what it depends on", tags=["ops"])
def status(request: HttpRequest):
    """Everything a dashboard needs to draw the platform's box and the boxes behind it."""
    latest = JobRun.objects.order_by("job", "-slot").distinct("job")
    return {
        "node": settings.NODE_NAME,
        "dependencies": health.dependencies(),
        "caches": services.cache_stats(),
        "outbox": outbox.backlog(),
        "last_runs": list(latest),
    }
