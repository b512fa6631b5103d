"""Suggested stories: a pre-generated index, built off-line by the consumers and read
by the home page with one primary-key lookup.

For each member: the stories most clicked, over the last week, by the members they
follow; then, to fill the list, the week's most clicked stories overall. Never
their own stories, nor stories they already clicked.
"""

from django.db import connection, transaction
from django.utils import timezone

from news.models import Suggestions, User

SIZE = 10
WINDOW = "7 days"
BATCH = 500  # members per transaction


def refresh_all() -> int:
    """Recompute every member's suggestions, a batch of members at a time; return how many."""
    popular = _popular()
    done, after = 0, 0
    while True:
        ids = list(User.objects.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            return done
        refresh(ids, popular)
        done += len(ids)
        after = ids[-1]


def refresh(user_ids: list[int], popular: list[int] | None = None) -> None:
    """Recompute the suggestions of these members, in one transaction."""
    popular = _popular() if popular is None else popular
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT f.follower_id, c.story_id
            FROM news_follow f
            JOIN news_click c ON c.user_id = f.followee_id AND c.created_at > now() - interval '{WINDOW}'
            WHERE f.follower_id = ANY(%s)
            GROUP BY f.follower_id, c.story_id
            ORDER BY f.follower_id, count(*) DESC, c.story_id DESC
            """,
            [user_ids],
        )
        from_followees: dict[int, list[int]] = {}
        for user_id, story_id in cursor.fetchall():
            from_followees.setdefault(user_id, []).append(story_id)
        cursor.execute(
            """
            SELECT user_id, story_id FROM news_click WHERE user_id = ANY(%s)
            UNION
            SELECT author_id, id FROM news_story WHERE author_id = ANY(%s) AND id = ANY(%s)
            """,
            [user_ids, user_ids, [s for stories in from_followees.values() for s in stories] + popular],
        )
        seen: dict[int, set[int]] = {}
        for user_id, story_id in cursor.fetchall():
            seen.setdefault(user_id, set()).add(story_id)
        now = timezone.now()
        rows = []
        for user_id in user_ids:
            picked: list[int] = []
            skip = seen.get(user_id, set())
            for story_id in [*from_followees.get(user_id, []), *popular]:
                if story_id not in skip and story_id not in picked:
                    picked.append(story_id)
                    if len(picked) == SIZE:
                        break
            rows.append(Suggestions(user_id=user_id, story_ids=picked, computed_at=now))
        Suggestions.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["user"], update_fields=["story_ids", "computed_at"]
        )


def _popular(limit: int = 50) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT story_id FROM news_click WHERE created_at > now() - interval '{WINDOW}'
            GROUP BY story_id ORDER BY count(*) DESC, story_id DESC LIMIT %s
            """,
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


def get(user_id: int) -> tuple[list[int], object]:
    """The member's suggested story ids and when they were computed (None: not yet)."""
    row = Suggestions.objects.filter(user_id=user_id).first()
    return ([], None) if row is None else (row.story_ids, row.computed_at)
