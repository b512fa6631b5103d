"""Fixtures: fresh members made through the platform, and clients logged in as them."""

import re
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.test import Client

from web.platform_client import platform

PASSWORD = "test-password"

T = TypeVar("T")


def unique(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_member() -> Callable[..., dict]:
    """Sign up a member with a unique username, straight through the platform."""

    def make(name: str = "Test Member") -> dict:
        return platform.sign_up(unique(), PASSWORD, name)

    return make


@pytest.fixture
def member(make_member) -> dict:
    return make_member()


@pytest.fixture
def login() -> Callable[[dict], Client]:
    """A new client, logged in as the given member through the login form."""

    def log_in(user: dict, password: str = PASSWORD) -> Client:
        client = Client()
        response = client.post("/login", {"username": user["username"], "password": password})
        assert response.status_code == 302, response.content
        return client

    return log_in


def csrf_token(html: str) -> str:
    """The CSRF token of the page's first form."""
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def story_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-testid="story" data-story-id="(\d+)"', html)]


def wait_for(check: Callable[[], T], what: str, timeout: float = 60, every: float = 0.5) -> T:
    """Poll `check` until it returns something truthy: off-line work (the fan-out consumer,
    an export) lands within seconds, not at once. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)
