"""Stories: the newest, one, a member's, a search; posting, editing, deleting, clicking through."""

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import StringConstraints

from idempotency.middleware import write_id
from news import stories
from news.api import auth
from news.api.fields import Domain, Line, StoryText, Title, Url, VisitorId
from news.api.schemas import Detail, Page, StoryOut, StoryPage, story_page

router = Router(tags=["stories"])


class StoryIn(Schema):
    title: Title
    url: Url
    text: StoryText = ""


class StoryPatch(Schema):
    title: Title | None = None
    url: Url | None = None
    text: StoryText | None = None


class ClickIn(Schema):
    referrer_domain: Domain = ""
    # Who clicked when no member acts: the product's own opaque name for the visitor
    # (the web tier's is a keyed hash of their address). A visitor's, or a member's,
    # clicks on a story count once per CLICK_DEDUP_SECONDS; unnamed, every click counts.
    visitor: VisitorId = ""


class ClickOut(Schema):
    url: str


class FanoutOut(Schema):
    delivered: int
    followers: int
    finished_at: datetime | None


class SearchIn(Page):
    q: Annotated[Line, StringConstraints(min_length=1, max_length=100)]
    offset: int = Field(
        0, ge=0, le=stories.SEARCH_MAX_OFFSET, description="a search goes this deep at most: refine the words"
    )


@router.get("/stories", response=StoryPage, summary="Newest stories first")
def list_stories(request: HttpRequest, page: Query[Page]):
    return story_page(stories.newest(page.limit, page.offset), page)


@router.post("/stories", response={201: StoryOut}, summary="Post a story", auth=auth.member)
def post_story(request: auth.MemberRequest, body: StoryIn):
    return Status(201, stories.create_story(request.auth.id, body.title, body.url, body.text))


@router.get("/stories/{int:story_id}/fanout", response={200: FanoutOut, 404: Detail})
def fanout_progress(request: HttpRequest, story_id: int):
    """How many of its author's followers have the story in their timeline yet."""
    return stories.fanout_progress(story_id)


@router.get("/stories/{int:story_id}", response={200: StoryOut, 404: Detail})
def get_story(request: HttpRequest, story_id: int):
    return stories.get_story(story_id)


@router.patch("/stories/{int:story_id}", response={200: StoryOut, 403: Detail, 404: Detail}, auth=auth.member)
def edit_story(request: auth.MemberRequest, story_id: int, body: StoryPatch):
    return stories.update_story(story_id, request.auth.id, **body.dict(exclude_none=True))


@router.delete("/stories/{int:story_id}", response={204: None, 403: Detail, 404: Detail}, auth=auth.member)
def delete_story(request: auth.MemberRequest, story_id: int):
    stories.delete_story(story_id, request.auth.id)
    return Status(204, None)


@router.post("/stories/{int:story_id}/clicks", response={200: ClickOut, 404: Detail}, auth=auth.anyone)
def click(request: auth.VisitorRequest, story_id: int, body: ClickIn):
    """Record a click through to the story; returns where to send the reader, every time
    (only the counting is deduplicated)."""
    click_id = write_id(request)  # a retry of this click carries the same id: counted once
    url = stories.record_click(story_id, request.auth.member_id, body.referrer_domain, click_id, body.visitor)
    return {"url": url}


@router.get("/search", response=StoryPage, summary="Search story titles")
def search(request: HttpRequest, query: Query[SearchIn]):
    return story_page(stories.search(query.q, query.limit, query.offset), query)


@router.get("/users/{int:user_id}/stories", response=StoryPage)
def stories_by(request: HttpRequest, user_id: int, page: Query[Page]):
    return story_page(stories.by_author(user_id, page.limit, page.offset), page)
