"""manage.py seed: the demo world."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from news.models import Story, User

pytestmark = pytest.mark.django_db


def test_seed_loads_a_world_once():
    call_command("seed", users=20, stories=100, if_empty=True)
    assert (User.objects.count(), Story.objects.count()) == (20, 100)
    call_command("seed", users=20, stories=100, if_empty=True)
    assert (User.objects.count(), Story.objects.count()) == (20, 100), "second start adds nothing"


def test_a_few_members_post_most_stories():
    call_command("seed", users=100, stories=2000)
    counts = sorted((u.stories.count() for u in User.objects.all()), reverse=True)
    assert sum(counts[:10]) > sum(counts) / 3


def test_seed_refuses_a_world_without_members():
    with pytest.raises(CommandError):
        call_command("seed", users=0)
