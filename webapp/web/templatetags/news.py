"""Template filters for platform records, which arrive as JSON (dates are ISO strings),
the write key of a form, and the addresses of the site's fixed pages."""

import functools
import uuid
from datetime import date, datetime

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

from web import links
from web.middleware import WRITE_KEY_FIELD

register = template.Library()


@register.simple_tag
def write_key() -> SafeString:
    """A hidden field naming this one filling-in of a form: sent again (a double click,
    a retry after an error page), the form's write happens once (web.middleware)."""
    return format_html('<input type="hidden" name="{}" value="{}">', WRITE_KEY_FIELD, uuid.uuid4().hex)


@register.simple_tag
def link(name: str) -> str:
    """`{% url name %}` for a view that takes no arguments, resolved once per process:
    the navigation's dozen `{% url %}` tags were a tenth of a cached page's CPU
    (bench/where-the-time-goes.md), and these addresses never change while it runs."""
    return _fixed_address(name)


@functools.cache
def _fixed_address(name: str) -> str:
    return reverse(name)


@register.filter
def as_datetime(value: str) -> datetime | None:
    return parse_datetime(value) if value else None


@register.filter
def as_date(value: str) -> date | None:
    return parse_date(value) if value else None


@register.filter
def domain(url: str) -> str:
    return links.domain(url)


@register.filter
def initials(user: dict) -> str:
    """Up to two letters for the default avatar: from the name, else the username."""
    words = (user.get("name") or user.get("username") or "?").split()
    return "".join(word[0] for word in words[:2]).upper()


@register.filter
def avatar_url(user: dict) -> str:
    """The versioned avatar address ('' when there is none): a new picture, a new URL."""
    if not user.get("avatar_version"):
        return ""
    path = reverse("avatar", args=[user["username"]])
    return f"{settings.MEDIA_URL}{path.lstrip('/')}?v={user['avatar_version']}"


@register.filter
def referrer(domain: str) -> str:
    """A referring domain as shown: an empty one is a direct visit (no Referer header)."""
    return domain or "(direct)"
