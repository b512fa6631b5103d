"""news.api.auth: who acts, as each route declares it."""

import pytest

from news.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def bob(db) -> User:
    return User.objects.create(username="bob", name="Bob")


def test_a_members_route_refuses_a_call_that_names_no_member(api):
    response = api.post("/api/v1/stories", {"title": "T", "url": "https://example.com"}, "application/json")
    assert response.status_code == 401
    assert "X-Acting-User" in response.json()["detail"]


@pytest.mark.parametrize("raw", ["abc", "-1", "1" * 19, "１２"])
def test_an_acting_member_that_is_not_an_id_is_a_401(api, raw):
    response = api.get("/api/v1/users/1/follow", HTTP_X_ACTING_USER=raw)
    assert response.status_code == 401


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
    refused = api.generic(method, url, "{}", "application/json", HTTP_X_ACTING_USER=str(bob.pk))
    assert refused.status_code == 403
    assert refused.json()["detail"] == f"Only member {ada.pk} may do this: it is their own."
    allowed = api.generic(method, url, "{}", "application/json", HTTP_X_ACTING_USER=str(ada.pk))
    assert allowed.status_code in (200, 202), allowed.content


def test_a_click_may_come_from_a_visitor_or_a_member_but_not_an_unknown_one(api, ada):
    story = ada.stories.create(title="Clicked", url="https://example.com/c")
    url = f"/api/v1/stories/{story.pk}/clicks"
    assert api.post(url, {}, "application/json").json() == {"url": "https://example.com/c"}
    assert api.post(url, {}, "application/json", HTTP_X_ACTING_USER=str(ada.pk)).status_code == 200
    assert api.post(url, {}, "application/json", HTTP_X_ACTING_USER="999999999").status_code == 401
