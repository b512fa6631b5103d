"""Input types shared by the routers: what a field must be before any work starts."""

from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from pydantic import AfterValidator, StringConstraints


def _printable(value: str) -> str:
    """No NUL or other control characters (Postgres refuses NUL; the rest is never wanted)."""
    if any(ord(char) < 32 and char not in "\n\r\t" or 0x7F <= ord(char) < 0xA0 for char in value):
        raise ValueError("must not contain control characters")
    return value


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value or "\t" in value:
        raise ValueError("must be a single line")
    return value


def _http_url(value: str) -> str:
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError:
        raise ValueError("must be a full http:// or https:// address") from None
    return value


Text = Annotated[str, AfterValidator(_printable)]
Line = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_printable), AfterValidator(_single_line)
]
# The sign-up alphabet; news.members.USERNAME finds nobody by any other name.
Username = Annotated[str, StringConstraints(min_length=3, max_length=30, pattern=r"^[A-Za-z0-9_]+$")]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128), AfterValidator(_printable)]
# At login any name or password may be tried (a wrong one is a 401), but not one
# Postgres cannot even compare (a NUL byte).
LoginName = Annotated[str, StringConstraints(max_length=30), AfterValidator(_printable)]
LoginPassword = Annotated[str, StringConstraints(max_length=128), AfterValidator(_printable)]
Name = Annotated[Line, StringConstraints(max_length=80)]
Title = Annotated[Line, StringConstraints(min_length=1, max_length=200)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_http_url)]
StoryText = Annotated[Text, StringConstraints(max_length=5000, strip_whitespace=True)]
Domain = Annotated[str, StringConstraints(max_length=253, pattern=r"^[A-Za-z0-9.\-]*$")]
# An anonymous visitor, named by the calling product (opaque: a hash, say).
VisitorId = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_\-]*$")]
