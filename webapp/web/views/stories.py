"""Story pages: lists (timeline, newest, search), one story, posting and editing, the click through."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from web import links, visitors
from web.auth import login_required
from web.errors import BadRequest
from web.forms import SearchForm, StoryForm, refused
from web.paging import PAGE_SIZE, SEARCH_MAX_PAGE, offset, page_context, page_number, search_page_number
from web.platform_client import Forbidden, ValidationFailed, platform


def home(request: HttpRequest) -> HttpResponse:
    """A member's home timeline (the stories of whom they follow); the newest for visitors."""
    page = page_number(request)
    if not request.member:
        return _newest(request, page)
    member = request.member
    context = page_context(request, page, platform.timeline(member, PAGE_SIZE, offset(page)))
    suggestions = platform.suggestions(member)
    context |= {"suggestions": suggestions["items"], "suggestions_computed_at": suggestions["computed_at"]}
    people = platform.people_you_may_know(member)
    context |= {"people": people["items"], "people_computed_at": people["computed_at"]}
    return render(request, "web/home.html", context)


def newest(request: HttpRequest) -> HttpResponse:
    return _newest(request, page_number(request))


def _newest(request: HttpRequest, page: int) -> HttpResponse:
    context = page_context(request, page, platform.stories(PAGE_SIZE, offset(page)))
    return render(request, "web/newest.html", context)


def search(request: HttpRequest) -> HttpResponse:
    q = search_query(request)
    context = {"q": q}
    if q:
        page = search_page_number(request)
        found = platform.search(q, PAGE_SIZE, offset(page))
        context |= page_context(request, page, found, last=SEARCH_MAX_PAGE)
    return render(request, "web/search.html", context)


def search_query(request: HttpRequest) -> str:
    """`?q=`, stripped; '' for none. Too long or holding NUL: a 400 (also for the JSON API)."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        raise BadRequest("Bad search", " ".join(form.errors["q"]))
    return form.cleaned_data["q"]


def story(request: HttpRequest, story_id: int) -> HttpResponse:
    current = platform.story(story_id)
    is_author = bool(request.member) and request.member.id == current["author"]["id"]
    # The fan-out is the author's business, and a count on every reader's page would cost a query.
    fanout = platform.fanout(story_id) if is_author else None
    return render(request, "web/story.html", {"story": current, "is_author": is_author, "fanout": fanout})


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest) -> HttpResponse:
    form = StoryForm(request.POST or None)
    if form.is_valid():
        try:
            posted = platform.post_story(request.member, **form.cleaned_data)
        except ValidationFailed as exc:
            refused(form, exc)
        else:
            messages.success(request, "Your story is posted.")
            return redirect("story", story_id=posted["id"])
    return render(
        request, "web/story_form.html", {"form": form, "heading": "Submit a story", "button": "Post"}
    )


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, story_id: int) -> HttpResponse:
    current = _own_story(request, story_id)
    form = StoryForm(request.POST or None, initial=current)
    if form.is_valid():
        try:
            platform.edit_story(request.member, story_id, **form.cleaned_data)
        except ValidationFailed as exc:
            refused(form, exc)
        else:
            messages.success(request, "Your story is saved.")
            return redirect("story", story_id=story_id)
    context = {"form": form, "heading": "Edit your story", "button": "Save", "story": current}
    return render(request, "web/story_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, story_id: int) -> HttpResponse:
    """GET asks for confirmation; the POST deletes."""
    current = _own_story(request, story_id)
    if request.method == "POST":
        platform.delete_story(request.member, story_id)
        messages.success(request, "Your story is deleted.")
        return redirect("member", username=request.member.username)
    return render(request, "web/story_delete.html", {"story": current})


def _own_story(request: HttpRequest, story_id: int) -> dict:
    """The story, if the logged-in member wrote it (the platform checks again on writes)."""
    current = platform.story(story_id)
    if current["author"]["id"] != request.member.id:
        raise Forbidden("Only its author may change a story.")
    return current


def go(request: HttpRequest, story_id: int) -> HttpResponse:
    """The click through: record it on the platform (with where the reader came from), then send
    the reader on. Lists link here rather than to the story's address, so clicks are counted:
    each reader's (the member, or the visitor's address: web.visitors) once per story and
    window, however often they click; every click is sent on."""
    referrer = links.referrer_domain(request.headers.get("Referer"))
    visitor = visitors.visitor_id(request)
    url = platform.click(story_id, referrer, acting=request.member or None, visitor=visitor)
    if not links.is_web_url(url):
        raise BadRequest("Not a web link", "This story's address is not an http or https link.")
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # every click must reach us to be counted
    return response
