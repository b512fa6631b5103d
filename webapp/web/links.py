"""Where a click came from and where it may go."""

import re
from urllib.parse import urlsplit

_DOMAIN = re.compile(r"[A-Za-z0-9.-]{1,253}")


def referrer_domain(referer: str | None) -> str:
    """The host name of a Referer header (urlsplit lowercases it); empty when there is
    none or it is not a plain host name, which is all the platform's click record accepts."""
    if not referer:
        return ""
    try:
        host = urlsplit(referer).hostname or ""
    except ValueError:  # e.g. an unbalanced "[" in the netloc
        return ""
    return host if _DOMAIN.fullmatch(host) else ""


def is_web_url(url: str) -> bool:
    """Only http(s) addresses are followed: never javascript:, data: or the like."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def domain(url: str) -> str:
    """The host shown beside a story's title, without a leading `www.`."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")
