"""Signing up, logging in and out. The platform checks passwords; the session remembers who."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from web.auth import log_in, log_out
from web.forms import LoginForm, SignUpForm, refused
from web.platform_client import Conflict, NotAuthenticated, TooManyAttempts, ValidationFailed, platform


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if form.is_valid():
        try:
            user = platform.sign_up(**form.cleaned_data)
        except Conflict:
            form.add_error("username", "This username is taken.")
        except ValidationFailed as exc:
            refused(form, exc)
        else:
            log_in(request, user)
            messages.success(
                request, f"Welcome, @{user['username']}! Follow a few members to fill your home page."
            )
            return redirect("home")
    return render(request, "web/account_form.html", {"form": form, "heading": "Sign up", "button": "Sign up"})


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if form.is_valid():
        try:
            user = platform.log_in(**form.cleaned_data)
        except NotAuthenticated:
            form.add_error(None, "Wrong username or password.")
        except TooManyAttempts as exc:
            form.add_error(None, exc.detail)
        except ValidationFailed as exc:
            refused(form, exc)
        else:
            log_in(request, user)
            messages.success(request, f"Logged in as @{user['username']}.")
            return redirect(next_url if _is_local(request, next_url) else "home")
    context = {"form": form, "heading": "Log in", "button": "Log in", "next": next_url}
    return render(request, "web/account_form.html", context)


def _is_local(request: HttpRequest, url: str) -> bool:
    """Only back to this site: `next` must not send a member elsewhere after logging in."""
    return url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    log_out(request)
    messages.success(request, "Logged out.")
    return redirect("home")
