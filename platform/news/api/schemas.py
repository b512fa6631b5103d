"""Schemas more than one router answers with: members, stories, pages of them.

The answers (UserOut, StoryOut, StoryPage) are plain pydantic models: the domain hands
over dicts (cached records), and ninja's Schema would read each field of each one
through its Django-aware getter, which made validating a page of stories cost more
than reading it from the cache (bench/report.md). The schema they publish is the same.
"""

from datetime import datetime

from ninja import Field, Schema
from pydantic import BaseModel


class Detail(Schema):
    detail: str


class Page(Schema):
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=10_000)


class UserOut(BaseModel):
    id: int
    username: str
    name: str
    bio: str
    followers_count: int
    following_count: int
    avatar_version: int
    date_joined: datetime
    version: int


class SignedInOut(UserOut):
    """A member who just signed up or logged in, with the assertion that lets the caller
    act for them (signins.assertions): keep it, send it as X-Member-Assertion."""

    assertion: str


class StoryOut(BaseModel):
    id: int
    title: str
    url: str
    text: str
    created_at: datetime
    version: int
    author: UserOut


class StoryPage(BaseModel):
    items: list[StoryOut]
    limit: int
    offset: int
    has_more: bool


def story_page(result: tuple[list[dict], bool], page: Page) -> StoryPage:
    """A StoryPage from a domain page (news.stories.Page) and the page asked for.

    Validated here, once: ninja passes an instance of a route's response model
    through as it is, where it would validate a dict a second time, wrapped in a
    Django-aware Schema of its own (5% of a platform node serving pages).
    """
    items, has_more = result
    return StoryPage.model_validate(
        {"items": items, "limit": page.limit, "offset": page.offset, "has_more": has_more}
    )
