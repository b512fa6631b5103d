"""manage.py purge_stories (the purge itself: tests/news/test_stories.py)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


def test_purge_refuses_a_nonsense_age():
    with pytest.raises(CommandError):
        call_command("purge_stories", older_than_days=0)
