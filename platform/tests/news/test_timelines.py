"""news.timelines: home timelines written ahead by the fan-out."""

import uuid

import pytest

from news import members, timelines
from news.models import Follow, Story, TimelineEntry, User
from tests.support import acting, follow, member

pytestmark = pytest.mark.django_db


def test_fan_out_reaches_every_follower_once_in_batches_and_a_rerun_changes_nothing(author):
    followers = User.objects.bulk_create([User(username=f"f{i}_{uuid.uuid4().hex[:6]}") for i in range(25)])
    Follow.objects.bulk_create([Follow(follower=f, followee=author) for f in followers])
    story = Story.objects.create(author=author, title="Big news", url="https://example.com/big")

    assert timelines.fan_out(story.pk, batch_size=10) == 25
    assert timelines.fan_out(story.pk, batch_size=10) == 0, "a redelivered message has no second effect"
    assert set(TimelineEntry.objects.filter(story=story).values_list("user_id", flat=True)) == {
        f.pk for f in followers
    }
    progress = timelines.progress(story.pk)
    assert (progress["delivered"], progress["followers"]) == (25, 25)
    assert progress["finished_at"] is not None


def test_fan_out_of_a_story_deleted_meanwhile_does_nothing(author):
    follow(member("reader"), author)
    story = Story.objects.create(author=author, title="Gone", url="https://example.com/gone")
    story_id = story.pk
    story.delete()
    assert timelines.fan_out(story_id) == 0


def test_a_follow_backfills_the_timeline_and_an_unfollow_empties_it(author, api):
    reader = member("reader")
    Story.objects.bulk_create(
        [Story(author=author, title=f"Old {i}", url=f"https://example.com/{i}") for i in range(3)]
    )
    members.follow(reader.pk, author.pk)
    body = api.get(f"/api/v1/users/{reader.pk}/timeline", **acting(reader.pk)).json()
    assert len(body["items"]) == 3
    members.unfollow(reader.pk, author.pk)
    assert not TimelineEntry.objects.filter(user=reader).exists()
