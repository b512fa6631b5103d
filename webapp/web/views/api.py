"""The public, read-only JSON API: a second product on the same platform as the HTML pages.

Only public fields leave: no record versions (a platform detail), avatars as URLs.
Errors are JSON too (web.errors.ErrorPages answers under /api/).
"""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from web.errors import BadRequest
from web.paging import MAX_PAGE, PAGE_SIZE, SEARCH_MAX_PAGE, offset, page_number, search_page_number
from web.platform_client import platform
from web.templatetags.news import avatar_url
from web.views.stories import search_query


def public_user(user: dict) -> dict:
    return {
        "username": user["username"],
        "name": user["name"],
        "bio": user["bio"],
        "followers_count": user["followers_count"],
        "following_count": user["following_count"],
        "avatar_url": avatar_url(user) or None,
        "date_joined": user["date_joined"],
    }


def public_story(story: dict) -> dict:
    return {
        "id": story["id"],
        "title": story["title"],
        "url": story["url"],
        "text": story["text"],
        "created_at": story["created_at"],
        "author": public_user(story["author"]),
    }


def _page(page: int, data: dict, last: int = MAX_PAGE) -> JsonResponse:
    return JsonResponse(
        {
            "page": page,
            "has_more": data["has_more"] and page < last,
            "items": [public_story(story) for story in data["items"]],
        }
    )


@require_GET
def stories(request: HttpRequest) -> JsonResponse:
    page = page_number(request)
    return _page(page, platform.stories(PAGE_SIZE, offset(page)))


@require_GET
def story(request: HttpRequest, story_id: int) -> JsonResponse:
    return JsonResponse(public_story(platform.story(story_id)))


@require_GET
def fanout(request: HttpRequest, story_id: int) -> JsonResponse:
    """How far a story's fan-out to its author's followers has come (public counts)."""
    return JsonResponse(platform.fanout(story_id))


@require_GET
def user(request: HttpRequest, username: str) -> JsonResponse:
    return JsonResponse(public_user(platform.user_by_username(username)))


@require_GET
def search(request: HttpRequest) -> JsonResponse:
    q = search_query(request)
    if not q:
        raise BadRequest("Bad search", "Give the words to search for in 'q'.")
    page = search_page_number(request)
    return _page(page, platform.search(q, PAGE_SIZE, offset(page)), last=SEARCH_MAX_PAGE)
