"""Page numbers from the query string, and the links to the pages around one."""

import hashlib

import orjson
from django.http import HttpRequest

from web.errors import BadRequest

PAGE_SIZE = 20
MAX_PAGE = 500  # the platform refuses offsets past 10,000
# A search goes ten pages deep: each page deeper ranks every match above it again (the
# platform refuses a search's offsets past 200: news.stories.SEARCH_MAX_OFFSET).
SEARCH_MAX_PAGE = 10


def page_number(request: HttpRequest) -> int:
    """`?page=N`, 1 when absent; anything else than 1..MAX_PAGE is the caller's mistake."""
    raw = request.GET.get("page", "1")
    # ASCII digits only: str.isdigit() would accept "²" or full-width digits.
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
        raise BadRequest("Bad page number", f"'page' must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)


def search_page_number(request: HttpRequest) -> int:
    """A search's `?page=N`: past SEARCH_MAX_PAGE, a 400 that says what to do instead."""
    page = page_number(request)
    if page > SEARCH_MAX_PAGE:
        raise BadRequest(
            "Too far into a search",
            f"A search shows its first {SEARCH_MAX_PAGE} pages of results: add words to find it sooner.",
        )
    return page


def offset(page: int) -> int:
    return (page - 1) * PAGE_SIZE


def page_context(request: HttpRequest, page: int, data: dict, last: int = MAX_PAGE) -> dict:
    """What templates/web/_stories.html needs: the stories, their ranks and the pager links,
    which keep the other query parameters (a search's `q`), up to page `last`."""

    def link(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return f"?{query.urlencode()}"

    return {
        "stories": data["items"],
        "stories_digest": digest(data["items"]),
        "first_rank": offset(page) + 1,
        "page": page,
        "newer_url": link(page - 1) if page > 1 else None,
        "older_url": link(page + 1) if data["has_more"] and page < last else None,
    }


def digest(items: list[dict]) -> str:
    """What names a rendered list of stories: a hash of everything it shows, so the same
    stories, with the same titles and authors' names, render once per process
    (templates/web/_stories.html), and any edit makes a new one."""
    return hashlib.blake2b(orjson.dumps(items, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
