"""news.accounts: closing an account leaves the rest of the site right."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from news import accounts, members, stories
from news.cache import cache
from news.models import Story, TimelineEntry, User
from tests.support import cached

pytestmark = pytest.mark.django_db


@pytest.fixture
def closing(ada, django_capture_on_commit_callbacks):
    """Ada follows Bob, Cleo follows Ada, Ada has posted: then Ada closes her account."""
    bob, cleo = User.objects.create(username="bob"), User.objects.create(username="cleo")
    members.follow(ada.pk, bob.pk)
    members.follow(cleo.pk, ada.pk)
    with django_capture_on_commit_callbacks(execute=True):
        story = stories.create_story(ada.pk, "Soon gone", "https://example.com/gone", "")
    stale_member = members.get_user(ada.pk)  # what a slow reader loaded before the close
    assert stories.newest(5, 0)[0][0]["id"] == story["id"]
    with django_capture_on_commit_callbacks(execute=True):
        accounts.close(ada.pk)
    return {"ada": ada, "bob": bob, "cleo": cleo, "story": story, "stale_member": stale_member}


def test_the_member_and_their_stories_are_gone_from_every_cache(closing):
    ada, story = closing["ada"], closing["story"]
    assert members.get_user(ada.pk) is None
    members.get_users([ada.pk])
    assert cached(f"user.{ada.pk}")["deleted"]
    cache.set_if_newer(f"user.{ada.pk}", closing["stale_member"], 60)
    assert members.get_user(ada.pk) is None, "a slow reader cannot bring the member back"
    assert stories.get_stories([story["id"]]) == []
    assert stories.newest(5, 0)[0] == []
    assert not Story.objects.filter(pk=story["id"]).exists()


def test_the_counts_and_timelines_of_the_others_stay_right(closing):
    bob, cleo = closing["bob"], closing["cleo"]
    assert members.get_user(bob.pk)["followers_count"] == 0
    assert members.get_user(cleo.pk)["following_count"] == 0
    assert not TimelineEntry.objects.filter(user=cleo).exists()


def test_the_command_closes_the_accounts_of_a_prefix_only():
    for name in ("webtest_a", "webtest_b", "webtestx"):
        User.objects.create(username=name)
    call_command("close_accounts", username_prefix="webtest_")
    assert list(User.objects.values_list("username", flat=True)) == ["webtestx"]


def test_the_command_refuses_a_prefix_that_could_close_the_demo_world():
    with pytest.raises(CommandError):
        call_command("close_accounts", username_prefix="user")
