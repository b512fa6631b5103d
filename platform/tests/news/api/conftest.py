from datetime import timedelta

import pytest
from django.utils import timezone

from news.models import Story, User


@pytest.fixture
def five_stories(db) -> list[Story]:
    """Five stories by Ada, a minute apart, the newest first."""
    author = User.objects.create(username="ada", name="Ada")
    now = timezone.now()
    return [
        Story.objects.create(
            author=author,
            title=f"Story {i}",
            url=f"https://example.com/{i}",
            created_at=now - timedelta(minutes=i),
        )
        for i in range(5)
    ]
