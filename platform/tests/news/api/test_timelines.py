"""news.api.timelines: what a member reads that is their own (here: people they may know)."""

import pytest

from mapreduce import runs
from mapreduce.models import SuggestedMember
from tests.support import acting, member

pytestmark = pytest.mark.django_db


def test_people_you_may_know_lists_members_with_their_mutual_connections(api):
    ada, bob = member("ada"), member("bob")
    run = runs.start("people-you-may-know", ada.date_joined)
    SuggestedMember.objects.create(run_id=run.pk, member_id=ada.pk, rank=1, suggested_id=bob.pk, mutuals=3)
    runs.finish(run, input_rows=2, output_rows=1)
    response = api.get(f"/api/v1/users/{ada.pk}/people-you-may-know", **acting(ada.pk))
    assert response.status_code == 200
    body = response.json()
    assert [(item["member"]["username"], item["mutuals"]) for item in body["items"]] == [(bob.username, 3)]
    assert body["computed_at"]


def test_people_you_may_know_before_any_run_is_empty_not_an_error(api):
    ada = member("ada")
    body = api.get(f"/api/v1/users/{ada.pk}/people-you-may-know", **acting(ada.pk)).json()
    assert body == {"items": [], "computed_at": None}


def test_people_you_may_know_are_the_members_own(api):
    ada, bob = member("ada"), member("bob")
    response = api.get(f"/api/v1/users/{ada.pk}/people-you-may-know", **acting(bob.pk))
    assert response.status_code == 403
