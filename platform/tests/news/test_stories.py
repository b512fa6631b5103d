"""news.stories: posting, editing, deleting and purging stories, with their caches."""

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import OutboxMessage
from news import stories
from news.cache import cache
from news.models import Story, TimelineEntry
from tests.support import cached

pytestmark = pytest.mark.django_db


def test_posting_writes_the_story_its_authors_entry_and_the_fanout_message_together(author):
    story = stories.create_story(author.pk, "Inline", "https://example.com/inline", "")
    assert list(TimelineEntry.objects.filter(story_id=story["id"]).values_list("user_id", flat=True)) == [
        author.pk
    ]
    [message] = OutboxMessage.objects.all()
    assert (message.task, message.kwargs) == ("jobs.fanout", {"story_id": story["id"]})


def test_purging_old_stories_leaves_no_stale_key(ada, django_capture_on_commit_callbacks):
    now = timezone.now()
    old = [
        Story.objects.create(
            author=ada, title=f"old {i}", url="https://example.com", created_at=now - timedelta(days=10)
        )
        for i in range(3)
    ]
    new = Story.objects.create(author=ada, title="new", url="https://example.com")
    ids = [story.pk for story in [*old, new]]
    assert len(stories.get_stories(ids)) == 4  # every story now cached
    with django_capture_on_commit_callbacks(execute=True):
        assert stories.purge_stories(older_than_days=7) == 3
    assert [story["id"] for story in stories.get_stories(ids)] == [new.pk]
    assert all(cached(f"story.{story.pk}")["deleted"] for story in old)
    assert not Story.objects.filter(pk__in=[story.pk for story in old]).exists()


def test_a_reader_cannot_put_a_deleted_story_back(ada, django_capture_on_commit_callbacks):
    story = Story.objects.create(author=ada, title="doomed", url="https://example.com")
    stale_record = stories._record(story)  # what a slow reader loaded before the delete
    with django_capture_on_commit_callbacks(execute=True):
        stories.delete_story(story.pk, ada.pk)
    cache.set_if_newer(f"story.{story.pk}", stale_record, 60)
    assert stories.get_stories([story.pk]) == []


def test_search_never_shows_a_deleted_story(ada, django_capture_on_commit_callbacks):
    story = Story.objects.create(author=ada, title="Zanzibar cache ideas", url="https://example.com")
    assert [found["id"] for found in stories.search("zanzibar", 10, 0)[0]] == [story.pk]
    assert [found["id"] for found in stories.search("zanzibar", 10, 0)[0]] == [story.pk]  # cached
    with django_capture_on_commit_callbacks(execute=True):
        stories.delete_story(story.pk, ada.pk)
    assert stories.search("zanzibar", 10, 0)[0] == []


def test_an_edit_shows_in_cached_lists_at_once(ada, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story = stories.create_story(ada.pk, "First title", "https://example.com", "")
    assert stories.newest(5, 0)[0][0]["title"] == "First title"
    with django_capture_on_commit_callbacks(execute=True):
        stories.update_story(story["id"], ada.pk, title="Second title")
    assert stories.newest(5, 0)[0][0]["title"] == "Second title"
