"""What the platform does, with its caching. The API (news.api) only translates HTTP.

Caches, each named for its hit and miss counters:
- `user`:   read-through `user.<id>`, write-through on profile changes and follows.
- `story`:  read-through `story.<id>`, write-through on edits, a tombstone on delete.
- `newest`: the ids of a page of newest stories; a hot key, so stampede-protected.
- `search`: the ids of a page of search results; short expiry plus a generation
            that changes with every story write, so a deleted story never shows.
Lists cache ids only; the records come from `story.<id>` and `user.<id>`, so an
edit is visible everywhere at once.

Every read that fills a cache is made on the primary (`using(PRIMARY)`, or inside a
transaction there): a value read from a lagging replica would be cached as current.
Other reads of a GET may be served by the replica (platform_layer.db).
"""

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from jobs import outbox
from news import clicks, timelines
from news.cache import cache
from news.models import Avatar, Follow, Story, User
from platform_layer.db import PRIMARY

RECORD_TTL = 3600  # user.<id>, story.<id>: long, since writes go through the cache
LIST_FRESH = 10  # seconds a cached page of ids is served without question
LIST_STALE = 60  # ...and how long after that it may still be served while one request recomputes
SEARCH_FRESH = 30
PURGE_BATCH = 1000


class NotFound(Exception):
    pass


class Conflict(Exception):
    pass


class Forbidden(Exception):
    pass


# --- Members -----------------------------------------------------------------------


def user_key(user_id: int) -> str:
    return f"user.{user_id}"


def get_user(user_id: int) -> dict | None:
    """Read-through, exactly the article's pattern."""
    key = user_key(user_id)
    record = cache.get("user", key)
    if record is None:
        user = User.objects.using(PRIMARY).filter(pk=user_id).first()
        if user is None:
            return None
        record = user.as_dict()
        cache.set_if_newer(key, record, RECORD_TTL)
    return record


def get_users(user_ids: list[int]) -> dict[int, dict]:
    """Read-through for many members in one cache round trip and at most one query."""
    keys = {user_id: user_key(user_id) for user_id in set(user_ids)}
    cached = cache.get_many("user", list(keys.values()))
    found = {user_id: cached[key] for user_id, key in keys.items() if key in cached}
    missing = [user_id for user_id in keys if user_id not in found]
    if missing:
        loaded = {user.pk: user.as_dict() for user in User.objects.using(PRIMARY).filter(pk__in=missing)}
        cache.set_many_if_newer({user_key(pk): record for pk, record in loaded.items()}, RECORD_TTL)
        found.update(loaded)
    return found


def get_user_by_username(username: str) -> dict | None:
    user_id = User.objects.filter(username__iexact=username).values_list("pk", flat=True).first()
    return None if user_id is None else get_user(user_id)


def _write_through_user(user_id: int) -> dict:
    """Re-read a member inside the writing transaction; cache it once that commits."""
    record = User.objects.get(pk=user_id).as_dict()
    transaction.on_commit(lambda: cache.set_if_newer(user_key(user_id), record, RECORD_TTL))
    return record


def create_user(username: str, password: str, name: str) -> dict:
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.")
    try:
        with transaction.atomic():
            user = User.objects.create(username=username, name=name, password=make_password(password))
    except IntegrityError as exc:  # a racing sign-up took it between the check and the insert
        raise Conflict(f"The username {username!r} is taken.") from exc
    return user.as_dict()


def authenticate(username: str, password: str) -> dict | None:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        make_password(password)  # same cost as a real check: no timing hint that the name is unknown
        return None
    return user.as_dict() if check_password(password, user.password) else None


@transaction.atomic
def update_profile(user_id: int, **fields: str) -> dict:
    """Write-through: the new profile goes to Postgres, then (on commit) to the cache.

    The row lock taken by UPDATE orders racing writers; each gets the next version,
    and the cache keeps the highest one whatever order the cache writes arrive in.
    """
    if not User.objects.filter(pk=user_id).update(**fields, version=F("version") + 1):
        raise NotFound(f"No member {user_id}.")
    return _write_through_user(user_id)


@transaction.atomic
def set_avatar(user_id: int, png: bytes) -> dict:
    Avatar.objects.update_or_create(user_id=user_id, defaults={"image": png, "content_type": "image/png"})
    if not User.objects.filter(pk=user_id).update(
        avatar_version=F("avatar_version") + 1, version=F("version") + 1
    ):
        raise NotFound(f"No member {user_id}.")
    return _write_through_user(user_id)


def get_avatar(user_id: int) -> tuple[bytes, str] | None:
    avatar = Avatar.objects.filter(user_id=user_id).first()
    return None if avatar is None else (bytes(avatar.image), avatar.content_type)


@transaction.atomic
def follow(follower_id: int, followee_id: int) -> dict:
    """Follow a member; both members' counts change, and both are written through."""
    if follower_id == followee_id:
        raise Conflict("You cannot follow yourself.")
    if not User.objects.filter(pk=followee_id).exists():
        raise NotFound(f"No member {followee_id}.")
    _, created = Follow.objects.get_or_create(follower_id=follower_id, followee_id=followee_id)
    if created:
        _count_follow(follower_id, followee_id, +1)
        timelines.backfill(follower_id, followee_id)
    return _write_through_user(followee_id)


@transaction.atomic
def unfollow(follower_id: int, followee_id: int) -> dict:
    if not User.objects.filter(pk=followee_id).exists():
        raise NotFound(f"No member {followee_id}.")
    deleted, _ = Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).delete()
    if deleted:
        _count_follow(follower_id, followee_id, -1)
        timelines.remove(follower_id, followee_id)
    return _write_through_user(followee_id)


def _count_follow(follower_id: int, followee_id: int, delta: int) -> None:
    # Lock both rows in id order, so two members following each other cannot deadlock.
    list(User.objects.select_for_update().filter(pk__in=[follower_id, followee_id]).order_by("pk"))
    User.objects.filter(pk=follower_id).update(
        following_count=F("following_count") + delta, version=F("version") + 1
    )
    User.objects.filter(pk=followee_id).update(
        followers_count=F("followers_count") + delta, version=F("version") + 1
    )
    _write_through_user(follower_id)


def is_following(follower_id: int, followee_id: int) -> bool:
    return Follow.objects.filter(follower_id=follower_id, followee_id=followee_id).exists()


# --- Stories -----------------------------------------------------------------------


def story_key(story_id: int) -> str:
    return f"story.{story_id}"


def _story_record(story: Story) -> dict:
    return {
        "id": story.pk,
        "author_id": story.author_id,
        "title": story.title,
        "url": story.url,
        "text": story.text,
        "created_at": story.created_at.isoformat(),
        "version": story.version,
    }


def get_stories(story_ids: list[int]) -> list[dict]:
    """Stories by id, in that order, each with its author; deleted ones are left out."""
    keys = {story_id: story_key(story_id) for story_id in story_ids}
    cached = cache.get_many("story", list(keys.values()))
    records = {story_id: cached[key] for story_id, key in keys.items() if key in cached}
    missing = [story_id for story_id in keys if story_id not in records]
    if missing:
        stories = Story.objects.using(PRIMARY).filter(pk__in=missing)
        loaded = {story.pk: _story_record(story) for story in stories}
        cache.set_many_if_newer({story_key(pk): record for pk, record in loaded.items()}, RECORD_TTL)
        records.update(loaded)
    # Left out: ids with no row, and tombstones of deleted stories.
    live = [records[pk] for pk in story_ids if pk in records and not records[pk].get("deleted")]
    authors = get_users([record["author_id"] for record in live])
    return [
        {**record, "author": authors[record["author_id"]]}
        for record in live
        if record["author_id"] in authors
    ]


def get_story(story_id: int) -> dict:
    stories = get_stories([story_id])
    if not stories:
        raise NotFound(f"No story {story_id}.")
    return stories[0]


def _write_through_story(story: Story) -> None:
    record = _story_record(story)

    def on_commit() -> None:
        cache.set_if_newer(story_key(story.pk), record, RECORD_TTL)
        cache.new_generation("search")

    transaction.on_commit(on_commit)


@transaction.atomic
def create_story(author_id: int, title: str, url: str, text: str) -> dict:
    """Inline: the story, the author's own timeline entry and the fan-out message, in one
    transaction. The followers' timelines are the fan-out consumer's job (news.timelines)."""
    story = Story.objects.create(author_id=author_id, title=title, url=url, text=text)
    timelines.add_own(story)
    outbox.enqueue("jobs.fanout", story_id=story.pk)
    _write_through_story(story)
    transaction.on_commit(lambda: cache.new_generation("story-list"))
    return {**_story_record(story), "author": User.objects.get(pk=author_id).as_dict()}


@transaction.atomic
def update_story(story_id: int, editor_id: int, **fields: str) -> dict:
    story = _story_for_author(story_id, editor_id)
    for name, value in fields.items():
        setattr(story, name, value)
    story.version += 1
    story.save()
    _write_through_story(story)
    return {**_story_record(story), "author": User.objects.get(pk=story.author_id).as_dict()}


@transaction.atomic
def delete_story(story_id: int, editor_id: int) -> None:
    story = _story_for_author(story_id, editor_id)
    story.delete()
    _invalidate_deleted_stories({story_id: story.version})


def _story_for_author(story_id: int, editor_id: int) -> Story:
    story = Story.objects.select_for_update().filter(pk=story_id).first()
    if story is None:
        raise NotFound(f"No story {story_id}.")
    if story.author_id != editor_id:
        raise Forbidden("Only its author may change a story.")
    return story


def _invalidate_deleted_stories(versions: dict[int, int]) -> None:
    """On commit, replace each cached story by a tombstone newer than any copy of it, so
    a slow reader cannot put the story back; then make every list unreachable."""
    tombstones = {
        story_key(pk): {"deleted": True, "version": version + 1} for pk, version in versions.items()
    }

    def on_commit() -> None:
        cache.set_many_if_newer(tombstones, RECORD_TTL)
        cache.new_generation("story-list")
        cache.new_generation("search")

    transaction.on_commit(on_commit)


def purge_stories(older_than_days: int) -> int:
    """The article's recipe for a write touching an unknown number of rows: select the
    matching ids, invalidate their cache keys, then delete them by primary key.
    Batched, so no transaction holds many locks for long."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    purged = 0
    while True:
        with transaction.atomic():
            batch = dict(
                Story.objects.select_for_update(skip_locked=True)
                .filter(created_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", "version")[:PURGE_BATCH]
            )
            if not batch:
                return purged
            Story.objects.filter(pk__in=list(batch)).delete()
            _invalidate_deleted_stories(batch)
        purged += len(batch)


def _cached_ids(cache_name: str, key: str, fresh: int, compute: Callable[[], list[int]]) -> list[int]:
    """A list of ids, cached without a stampede.

    Each entry holds the time it stops being fresh. A fresh entry is served. When it
    is stale, or missing, one request takes a Postgres advisory lock and recomputes it;
    the others serve the stale entry meanwhile or, when there is none, wait briefly
    for the winner. Locks live in Postgres because the cache may evict anything.
    """
    entry = cache.get(cache_name, key)
    now = time.time()
    if entry is not None and entry["fresh_until"] > now:
        return entry["ids"]
    if not cache.available:
        return compute()
    with transaction.atomic():
        if _try_lock(key):
            ids = compute()
            cache.set(key, {"ids": ids, "fresh_until": now + fresh}, fresh + LIST_STALE)
            return ids
    if entry is not None:
        return entry["ids"]  # stale while another request recomputes
    for _ in range(20):  # up to ~1s for the request that holds the lock
        time.sleep(0.05)
        entry = cache.get(cache_name, key)
        if entry is not None:
            return entry["ids"]
    return compute()


def _try_lock(key: str) -> bool:
    """A transaction-scoped advisory lock on the key's 64-bit hash; never waits."""
    lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def _page(ids: list[int], limit: int) -> tuple[list[int], bool]:
    return ids[:limit], len(ids) > limit


def newest(limit: int, offset: int) -> tuple[list[dict], bool]:
    key = f"newest.{cache.generation('story-list')}.{limit}.{offset}"
    ids = _cached_ids(
        "newest",
        key,
        LIST_FRESH,
        lambda: list(
            Story.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[
                offset : offset + limit + 1
            ]
        ),
    )
    page, has_more = _page(ids, limit)
    return get_stories(page), has_more


def search(query: str, limit: int, offset: int) -> tuple[list[dict], bool]:
    """Full-text search over titles. A fuzzy query: cached briefly, under a generation
    that every story write changes, so results never include a deleted story."""
    normalized = " ".join(query.lower().split())
    digest = hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()
    key = f"search.{cache.generation('search')}.{digest}.{limit}.{offset}"

    def compute() -> list[int]:
        # The same expression as the GIN index on titles (news.models), so it is used.
        vector = SearchVector("title", config="english")
        terms = SearchQuery(normalized, config="english", search_type="websearch")
        rows = (
            Story.objects.annotate(document=vector)
            .filter(document=terms)
            .annotate(rank=SearchRank(vector, terms))
            .order_by("-rank", "-created_at", "-id")
            .values_list("pk", flat=True)[offset : offset + limit + 1]
        )
        return list(rows)

    ids = _cached_ids("search", key, SEARCH_FRESH, compute)
    page, has_more = _page(ids, limit)
    return get_stories(page), has_more


def timeline(user_id: int, limit: int, offset: int) -> tuple[list[dict], bool]:
    """The stories of the members this member follows, newest first: written ahead by
    the fan-out (news.timelines), so reading is one index range."""
    page, has_more = _page(timelines.page(user_id, limit, offset), limit)
    return get_stories(page), has_more


def stories_by(user_id: int, limit: int, offset: int) -> tuple[list[dict], bool]:
    ids = list(
        Story.objects.filter(author_id=user_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[offset : offset + limit + 1]
    )
    page, has_more = _page(ids, limit)
    return get_stories(page), has_more


def record_click(story_id: int, user_id: int | None, referrer_domain: str) -> str:
    """Record a click through to a story (an event on the click stream); return the URL
    to redirect to."""
    story = get_story(story_id)
    clicks.record(story_id, user_id, referrer_domain)
    return story["url"]


def cache_stats() -> dict[str, Any]:
    return {"caches": cache.stats(), "errors_in_this_process": cache.errors}
