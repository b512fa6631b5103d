"""Version 1 of the platform's JSON API: what every product (the web tier, the
public API, a CLI) reads and writes through. The OpenAPI schema is generated
from these signatures at /api/v1/openapi.json."""

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import ValidationError

from jobs.models import JobRun
from news.models import Story
from platform_layer import health

api = NinjaAPI(
    title="Platform API",
    version="1",
    description="The platform layer of the reference deployment: one API, several products.",
    urls_namespace="api-v1",
)


@api.exception_handler(ValidationError)
def bad_request(request: HttpRequest, exc: ValidationError):
    """Bad input is the caller's mistake: 400 with the reasons, never a 500."""
    return api.create_response(request, {"detail": "Invalid request.", "errors": exc.errors}, status=400)


class AuthorOut(Schema):
    id: int
    username: str
    name: str


class StoryOut(Schema):
    id: int
    title: str
    url: str
    text: str
    created_at: datetime
    author: AuthorOut


class Page(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=100_000)


class StoryPage(Schema):
    items: list[StoryOut]
    limit: int
    offset: int
    has_more: bool


@api.get("/stories", response=StoryPage, summary="Newest stories first")
def list_stories(request: HttpRequest, page: Query[Page]):
    rows = list(
        Story.objects.select_related("author").order_by("-created_at", "-id")[
            page.offset : page.offset + page.limit + 1
        ]
    )
    items = [{**_story_fields(story), "author": story.author.as_dict()} for story in rows[: page.limit]]
    return {
        "items": items,
        "limit": page.limit,
        "offset": page.offset,
        "has_more": len(rows) > page.limit,
    }


def _story_fields(story: Story) -> dict:
    return {
        "id": story.pk,
        "title": story.title,
        "url": story.url,
        "text": story.text,
        "created_at": story.created_at,
    }


class JobRunOut(Schema):
    job: str
    slot: datetime
    published_by: str
    consumed_by: str
    finished_at: datetime


class StatusOut(Schema):
    node: str
    dependencies: dict
    last_runs: list[JobRunOut]


@api.get("/status", response=StatusOut, summary="State of this node and of what it depends on")
def status(request: HttpRequest):
    """Everything a dashboard needs to draw the platform's box and the boxes behind it."""
    latest = JobRun.objects.order_by("job", "-slot").distinct("job")
    return {
        "node": settings.NODE_NAME,
        "dependencies": health.dependencies(),
        "last_runs": list(latest),
    }
