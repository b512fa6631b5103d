"""news.api.auth: who acts, as each route declares it, proven by the member's assertion."""

import pytest
from django.core import signing

from news.models import User
from signins import assertions
from tests.support import acting

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(db) -> User:
    return User.objects.create(username="bob", name="Bob")


def test_a_members_route_refuses_a_call_that_names_no_member(api):
    response = api.post("/api/v1/stories", {"title": "T", "url": "https://example.com"}, "application/json")
    assert response.status_code == 401
    assert "X-Member-Assertion" in response.json()["detail"]


def test_the_api_token_alone_acts_for_no_one_whatever_header_names_a_member(api, ada):
    """What the web tier's token used to allow: naming any member by id."""
    response = api.get(f"/api/v1/users/{ada.pk}/timeline", HTTP_X_ACTING_USER=str(ada.pk))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "forged",
    [
        "abc",
        "1",
        "x" * 5000,
        # well formed, signed with a key that is not the platform's
        signing.dumps([1, "0" * 32], key="not-the-platform-key", salt=assertions.SALT, compress=False),
    ],
)
def test_an_assertion_the_platform_did_not_sign_is_a_401(api, ada, forged):
    response = api.get(f"/api/v1/users/{ada.pk}/timeline", HTTP_X_MEMBER_ASSERTION=forged)
    assert response.status_code == 401
    assert "log in again" in response.json()["detail"]


def test_an_assertion_acts_for_its_member_until_the_member_logs_out(api, ada):
    as_ada = acting(ada.pk)
    assert api.get(f"/api/v1/users/{ada.pk}/timeline", **as_ada).status_code == 200
    assert api.post("/api/v1/auth/logout", **as_ada).status_code == 204
    assert api.get(f"/api/v1/users/{ada.pk}/timeline", **as_ada).status_code == 401
    assert api.get(f"/api/v1/users/{ada.pk}/timeline", **acting(ada.pk)).status_code == 200, (
        "a new login works"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/api/v1/users/{owner}"),
        ("GET", "/api/v1/users/{owner}/timeline"),
        ("GET", "/api/v1/users/{owner}/suggestions"),
        ("POST", "/api/v1/users/{owner}/exports"),
    ],
)
def test_what_is_a_members_own_is_refused_to_another_member(api, ada, bob, method, path):
    url = path.format(owner=ada.pk)
    refused = api.generic(method, url, "{}", "application/json", **acting(bob.pk))
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"Only member {ada.pk} may do this: it is their own."
    allowed = api.generic(method, url, "{}", "application/json", **acting(ada.pk))
    assert allowed.status_code in (200, 202), allowed.content


def test_a_click_may_come_from_a_visitor_or_a_member_but_not_a_forged_one(api, ada):
    story = ada.stories.create(title="Clicked", url="https://example.com/c")
    url = f"/api/v1/stories/{story.pk}/clicks"
    assert api.post(url, {}, "application/json").json() == {"url": "https://example.com/c"}
    assert api.post(url, {}, "application/json", **acting(ada.pk)).status_code == 200
    assert api.post(url, {}, "application/json", HTTP_X_MEMBER_ASSERTION="forged").status_code == 401
