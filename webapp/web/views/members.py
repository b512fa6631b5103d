"""Member pages: a profile, following, the avatar proxy and one's own settings."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from web.auth import login_required, remember
from web.forms import ProfileForm, refused
from web.paging import PAGE_SIZE, offset, page_context, page_number
from web.platform_client import NotFound, ValidationFailed, platform

# The version in the avatar's URL changes with each upload, so a copy may be kept for a year.
IMMUTABLE = "public, max-age=31536000, immutable"


def profile(request: HttpRequest, username: str) -> HttpResponse:
    page = page_number(request)
    user = platform.user_by_username(username)
    context = page_context(request, page, platform.stories_by(user["id"], PAGE_SIZE, offset(page)))
    me = request.member
    context |= {
        "user": user,
        "is_me": bool(me) and me.id == user["id"],
        "following": bool(me) and me.id != user["id"] and platform.is_following(me, user["id"]),
    }
    return render(request, "web/profile.html", context)


@require_POST
@login_required
def follow(request: HttpRequest, username: str, follow: bool) -> HttpResponse:
    user = platform.user_by_username(username)
    if follow:
        platform.follow(request.member, user["id"])
        messages.success(request, f"You follow @{user['username']}.")
    else:
        platform.unfollow(request.member, user["id"])
        messages.success(request, f"You no longer follow @{user['username']}.")
    # Back where the button was (the home page's people you may know), if on this site.
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("member", username=user["username"])


@require_GET
def avatar(request: HttpRequest, username: str) -> HttpResponse:
    """The member's picture, proxied from the platform: the web tier is the only public door."""
    user = platform.user_by_username(username)
    if not user["avatar_version"]:
        raise Http404("No picture.")
    if request.GET.get("v") != str(user["avatar_version"]):
        # An old or missing version: send to the current URL rather than cache the wrong bytes.
        response = redirect(f"{request.path}?v={user['avatar_version']}")
        response["Cache-Control"] = "no-cache"
        return response
    try:
        image = platform.avatar(user["id"])
    except NotFound as exc:
        raise Http404("No picture.") from exc
    response = HttpResponse(image, content_type="image/png")
    response["Cache-Control"] = IMMUTABLE
    return response


@login_required
@require_http_methods(["GET", "POST"])
def settings_profile(request: HttpRequest) -> HttpResponse:
    me = request.member
    current = platform.me(me)
    form = ProfileForm(request.POST or None, request.FILES or None, initial=current)
    if form.is_valid():
        picture = form.cleaned_data["avatar"]
        try:
            user = platform.update_profile(me, name=form.cleaned_data["name"], bio=form.cleaned_data["bio"])
            remember(request, user)
            if picture:
                platform.upload_avatar(me, picture.name, picture.read(), picture.content_type)
        except ValidationFailed as exc:
            # The platform calls the uploaded picture "image"; this form calls it "avatar".
            refused(form, exc, aliases={"image": "avatar"})
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("settings-profile")
    return render(request, "web/settings.html", {"form": form, "user": current})
