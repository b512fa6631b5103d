"""Home timelines, written at post time (fan-out on write), the article's "do enough
inline, tie up loose ends later":

- inline, when a story is posted: the story, the author's own timeline entry and the
  fan-out message (jobs.outbox), in one transaction. Posting costs the same whether
  the author has one follower or ten thousand.
- off-line, in a consumer: one entry per follower, in batches of FANOUT_BATCH, each
  batch its own transaction. Entries are unique per (member, story), so a fan-out
  redelivered after a consumer crash skips what is done and finishes the rest.

Reading a timeline is then one index range of `news_timelineentry`.
"""

import logging

from django.db import connection, transaction
from django.utils import timezone

from news.models import Follow, Story, TimelineEntry

log = logging.getLogger(__name__)

FANOUT_BATCH = 1000
# What a new follow copies into the follower's timeline at once (the followee's newest).
BACKFILL = 50


def add_own(story: Story) -> None:
    """The author sees their story at once: written inline, with the story."""
    TimelineEntry.objects.create(
        user_id=story.author_id, story=story, author_id=story.author_id, created_at=story.created_at
    )


def fan_out(story_id: int, batch_size: int = FANOUT_BATCH) -> int:
    """Write the story into every follower's timeline, one batch a transaction.

    Returns the number of entries written by this call (0 when a redelivered
    message finds the work done, or the story deleted).
    """
    story = Story.objects.filter(pk=story_id).values("author_id", "created_at").first()
    if story is None:
        log.info("fan-out of story %s: deleted meanwhile, nothing to do", story_id)
        return 0
    written, reached, after = 0, 0, 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # Followers in id order from a cursor: every batch is an index range, and
            # a follow made meanwhile is either in a later batch or backfilled by follow().
            cursor.execute(
                """
                WITH batch AS (
                    SELECT follower_id FROM news_follow
                    WHERE followee_id = %(author)s AND follower_id > %(after)s
                    ORDER BY follower_id LIMIT %(limit)s
                ), written AS (
                    INSERT INTO news_timelineentry (user_id, story_id, author_id, created_at)
                    SELECT follower_id, %(story)s, %(author)s, %(created_at)s FROM batch
                    ON CONFLICT (user_id, story_id) DO NOTHING
                    RETURNING 1
                )
                SELECT (SELECT max(follower_id) FROM batch), (SELECT count(*) FROM batch),
                       (SELECT count(*) FROM written)
                """,
                {
                    "author": story["author_id"],
                    "after": after,
                    "limit": batch_size,
                    "story": story_id,
                    "created_at": story["created_at"],
                },
            )
            last, size, count = cursor.fetchone()
        if last is None:
            Story.objects.filter(pk=story_id).update(fanned_out_at=timezone.now())
            # A redelivered fan-out finds part of its work done: those entries are skipped.
            log.info(
                "fan-out of story %s: %d entries written, %d already there",
                story_id,
                written,
                reached - written,
            )
            return written
        written += count
        reached += size
        after = last


def backfill(follower_id: int, followee_id: int) -> None:
    """A new follow shows the followee's newest stories at once (inline: a few rows)."""
    newest = Story.objects.filter(author_id=followee_id).order_by("-created_at", "-id")[:BACKFILL]
    TimelineEntry.objects.bulk_create(
        [
            TimelineEntry(user_id=follower_id, story_id=s.pk, author_id=followee_id, created_at=s.created_at)
            for s in newest.only("pk", "created_at")
        ],
        ignore_conflicts=True,
    )


def remove(follower_id: int, followee_id: int) -> None:
    """An unfollow takes the followee's stories out of the follower's timeline."""
    TimelineEntry.objects.filter(user_id=follower_id, author_id=followee_id).delete()


def page(user_id: int, limit: int, offset: int) -> list[int]:
    """Story ids of a page of the member's timeline, newest first (one more than `limit`)."""
    return list(
        TimelineEntry.objects.filter(user_id=user_id)
        .order_by("-created_at", "-story_id")
        .values_list("story_id", flat=True)[offset : offset + limit + 1]
    )


def progress(story_id: int) -> dict:
    """How far the fan-out of a story has come: followers reached, out of how many, and
    when it finished (None while it runs). Timelines of the demo world are backfilled
    with each member's newest stories only, so an old demo story reached fewer."""
    story = Story.objects.filter(pk=story_id).values("author_id", "fanned_out_at").first()
    if story is None:
        return {"delivered": 0, "followers": 0, "finished_at": None}
    author = story["author_id"]
    return {
        "delivered": TimelineEntry.objects.filter(story_id=story_id).exclude(user_id=author).count(),
        "followers": Follow.objects.filter(followee_id=author).count(),
        "finished_at": story["fanned_out_at"],
    }
