"""What a member reads that is their own: the home timeline, suggested stories, people
they may know."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from mapreduce import results
from news import stories
from news.api import auth
from news.api.schemas import Detail, Page, StoryOut, StoryPage, UserOut, story_page

router = Router(tags=["stories"], auth=auth.owner)


class Suggestions(Schema):
    items: list[StoryOut]
    computed_at: datetime | None


@router.get("/users/{int:user_id}/timeline", response={200: StoryPage, 403: Detail})
def timeline(request: HttpRequest, user_id: int, page: Query[Page]):
    """The stories of the members this one follows, newest first."""
    return story_page(stories.timeline(user_id, page.limit, page.offset), page)


@router.get("/users/{int:user_id}/suggestions", response={200: Suggestions, 403: Detail})
def get_suggestions(request: HttpRequest, user_id: int):
    """Suggested stories, pre-generated off-line from clicks and follows (news.suggestions)."""
    items, computed_at = stories.suggested(user_id)
    return {"items": items, "computed_at": computed_at}


class Suggestion(Schema):
    member: UserOut
    mutuals: int


class PeopleYouMayKnow(Schema):
    items: list[Suggestion]
    computed_at: datetime | None


@router.get("/users/{int:user_id}/people-you-may-know", response={200: PeopleYouMayKnow, 403: Detail})
def people_you_may_know(request: HttpRequest, user_id: int):
    """Members followed by the people this one follows, most mutual connections first:
    computed off-line by map-reduce on Spark (mapreduce), read in one lookup."""
    items, computed_at = results.people_you_may_know(user_id)
    return {"items": items, "computed_at": computed_at}
