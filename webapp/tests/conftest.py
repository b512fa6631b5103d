"""Fixtures: fresh members made through the platform, and clients logged in as them.

These tests run against the live platform: every member they sign up is named
`webtest_...`, and `make test-unit` closes those accounts after the suite (pass or
fail: manage.py close_accounts), so the demo world is left as it was.
"""

import re
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.test import Client

from web.auth import Member
from web.platform_client import platform

PASSWORD = "test-password"

T = TypeVar("T")


TEST_PREFIX = "webtest_"


def unique() -> str:
    """A username no one has: the tests' prefix, then random."""
    return f"{TEST_PREFIX}{uuid.uuid4().hex[:12]}"


def acting(user: dict) -> Member:
    """The member a signed-up (or logged-in) user is, as a view finds it in its session:
    what the platform client acts for (with the assertion the platform signed)."""
    return Member(id=user["id"], username=user["username"], name=user["name"], assertion=user["assertion"])


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


def wait_for(condition: Callable[[], T], timeout: float = 60, interval: float = 0.5, what: str = "") -> T:
    """Poll `condition` until it returns something truthy: off-line work (the fan-out
    consumer, an export) lands within seconds, not at once. Fails after `timeout`
    seconds. (The whole-stack tests' tests/stack.py has the same helper.)"""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition.__name__}")
        time.sleep(interval)
