"""news.suggestions: the pre-generated index of suggested stories."""

import pytest

from news import suggestions
from news.models import Click, Story
from tests.support import acting, follow, member

pytestmark = pytest.mark.django_db


def test_suggestions_come_from_followees_clicks_then_the_weeks_most_clicked(api, author):
    reader, friend = member("reader"), member("friend")
    follow(reader, friend)
    stories = [
        Story.objects.create(author=author, title=f"S{i}", url=f"https://example.com/{i}") for i in range(4)
    ]
    own = Story.objects.create(author=reader, title="Mine", url="https://example.com/mine")
    for story in (stories[0], stories[1], stories[1], own):
        Click.objects.create(story=story, user=friend)
    Click.objects.create(story=stories[0], user=reader)  # already read: not suggested
    for _ in range(3):
        Click.objects.create(story=stories[3])  # popular with everyone

    suggestions.refresh([reader.pk])
    body = api.get(f"/api/v1/users/{reader.pk}/suggestions", **acting(reader.pk)).json()
    assert [item["id"] for item in body["items"]] == [stories[1].pk, stories[3].pk]
    assert body["computed_at"]
    assert api.get(f"/api/v1/users/{reader.pk}/suggestions", **acting(friend.pk)).status_code == 403
