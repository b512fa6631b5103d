"""The API's JSON, written by orjson.

Rendering a page of stories with the standard library's encoder, and Django's for
its dates, was about a tenth of a platform node's CPU under load
(bench/where-the-time-goes.md); orjson writes the same document several times faster.
Dates are RFC 3339 in UTC, with microseconds (`2026-12-02T03:31:33.498123Z`); whatever
orjson does not know natively (a pydantic model, a URL, a Decimal) goes through ninja's
own encoder.
"""

from typing import Any

import orjson
from django.http import HttpRequest
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"

    def __init__(self) -> None:
        self._fallback = NinjaJSONEncoder().default

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=self._fallback, option=_OPTIONS)
