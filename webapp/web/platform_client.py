"""The web tier's only door to data: the platform layer's JSON API.

Every call goes to one load-balanced address (the article's `localhost:9000`
idea); the pool behind it, its health checks and retries are HAProxy's job.
"""

from typing import Any

import requests
from django.conf import settings


class PlatformUnavailable(Exception):
    """The platform pool could not answer; pages show a 503 rather than a crash."""


class PlatformClient:
    def __init__(self, base_url: str, token: str, timeout: tuple[float, float]) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        # One pooled session per process: keep-alive connections to the load balancer.
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> tuple[dict, str]:
        """GET a platform resource; return its JSON body and the platform node that served it."""
        try:
            response = self.session.get(f"{self.base_url}{path}", params=params, timeout=self.timeout)
            response.raise_for_status()
            return response.json(), response.headers.get("X-Served-By", "?")
        except (requests.RequestException, ValueError) as exc:
            raise PlatformUnavailable(f"{path}: {exc}") from exc

    def stories(self, limit: int, offset: int) -> tuple[dict, str]:
        return self.get("/api/v1/stories", limit=limit, offset=offset)

    def status(self) -> tuple[dict, str]:
        return self.get("/api/v1/status")


platform = PlatformClient(settings.PLATFORM_URL, settings.PLATFORM_API_TOKEN, settings.PLATFORM_TIMEOUT)
