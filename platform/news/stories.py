"""Stories: posting, editing, deleting, and every list of them, with their caches.

Caches, each named for its hit and miss counters (news.cache):
- `story`:  read-through `story.<id>`, write-through on edits, a tombstone on delete.
- `newest`: the ids of a page of newest stories; a hot key, so stampede-protected.
- `search`: the ids of a page of search results; short expiry plus a generation
            that changes with every story write, so a deleted story never shows.
Lists cache ids only; the records come from `story.<id>` and `user.<id>`
(news.members), so an edit is visible everywhere at once.

Every read that fills a cache is made on the primary (`using(fresh_alias())`, or inside
a transaction there): a value read from a lagging replica would be cached as current.
Other reads of a GET may be served by the replica. While the primary is down, every
read goes to the read pool and fills nothing (platform_layer.db).

One exception: a search, the costliest read, runs on the read pool. Its generation
is named by the primary's WAL position after the latest story write, and a search
reads the replica only once the replica has replayed that far (otherwise, the
primary): what it caches shows every story written before, and none deleted.
"""

import hashlib
import logging
import uuid
from datetime import timedelta

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from jobs import outbox
from news import clicks, suggestions, timelines
from news.cache import cache, cached_ids
from news.errors import Forbidden, NotFound
from news.members import get_users
from news.models import Story, User
from platform_layer.db import fresh_alias, parse_lsn, read_alias, wal_position

log = logging.getLogger(__name__)

RECORD_TTL = 3600  # story.<id>: long, since writes go through the cache
LIST_FRESH = 10  # seconds a cached page of newest ids is served without question
SEARCH_FRESH = 30
# How deep a search goes: ten pages of twenty. Each page deeper ranks every match
# above it again; a reader who has not found it by then refines the words.
SEARCH_MAX_OFFSET = 200
PURGE_BATCH = 1000

Page = tuple[list[dict], bool]  # a page of stories, and whether there are more


def story_key(story_id: int) -> str:
    return f"story.{story_id}"


def _record(story: Story) -> dict:
    return {
        "id": story.pk,
        "author_id": story.author_id,
        "title": story.title,
        "url": story.url,
        "text": story.text,
        "created_at": story.created_at.isoformat(),
        "version": story.version,
    }


# --- Reading ------------------------------------------------------------------------


def get_stories(story_ids: list[int]) -> list[dict]:
    """Stories by id, in that order, each with its author; deleted ones are left out."""
    keys = {story_id: story_key(story_id) for story_id in story_ids}
    cached = cache.get_many("story", list(keys.values()))
    records = {story_id: cached[key] for story_id, key in keys.items() if key in cached}
    missing = [story_id for story_id in keys if story_id not in records]
    if missing:
        rows = Story.objects.using(fresh_alias()).filter(pk__in=missing)
        loaded = {story.pk: _record(story) for story in rows}
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


def _page(ids: list[int], limit: int) -> Page:
    """Lists are read one id longer than the page, to tell whether there are more."""
    return get_stories(ids[:limit]), len(ids) > limit


def newest(limit: int, offset: int) -> Page:
    key = f"newest.{cache.generation('story-list')}.{limit}.{offset}"

    def compute() -> list[int]:  # built only on a miss: building a queryset costs as much as a hit
        query = Story.objects.using(fresh_alias()).order_by("-created_at", "-id").values_list("pk", flat=True)
        return list(query[offset : offset + limit + 1])

    return _page(cached_ids("newest", key, LIST_FRESH, compute), limit)


def search(query: str, limit: int, offset: int) -> Page:
    """Full-text search over titles, on the read pool. A fuzzy query: cached briefly,
    under a generation that every story write changes, so results never miss a story
    written before, nor include a deleted one. `offset` is at most SEARCH_MAX_OFFSET
    (news.api.stories)."""
    normalized = " ".join(query.lower().split())
    digest = hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()
    generation = cache.generation("search")
    key = f"search.{generation}.{digest}.{limit}.{offset}"

    def compute() -> list[int]:
        # The same expression as the GIN index on titles (news.models), so it is used.
        vector = SearchVector("title", config="english")
        terms = SearchQuery(normalized, config="english", search_type="websearch")
        # The read pool, once it has replayed the latest story write: the generation's
        # WAL position (None for a random one, after an eviction: then, at once).
        database = read_alias(after=parse_lsn(generation))
        rows = (
            Story.objects.using(database)
            .annotate(document=vector)
            .filter(document=terms)
            .annotate(rank=SearchRank(vector, terms))
            .order_by("-rank", "-created_at", "-id")
            .values_list("pk", flat=True)[offset : offset + limit + 1]
        )
        return list(rows)

    return _page(cached_ids("search", key, SEARCH_FRESH, compute), limit)


def by_author(user_id: int, limit: int, offset: int) -> Page:
    """Not cached: the read pool serves it, so a lagging replica shows here (README)."""
    ids = (
        Story.objects.filter(author_id=user_id)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[offset : offset + limit + 1]
    )
    return _page(list(ids), limit)


def timeline(user_id: int, limit: int, offset: int) -> Page:
    """The stories of the members this member follows, newest first: written ahead by
    the fan-out (news.timelines), so reading is one index range."""
    return _page(timelines.page(user_id, limit, offset), limit)


def suggested(user_id: int) -> tuple[list[dict], object]:
    """The member's suggested stories (pre-generated off-line), and when they were computed."""
    story_ids, computed_at = suggestions.get(user_id)
    return get_stories(story_ids), computed_at


def fanout_progress(story_id: int) -> dict:
    get_story(story_id)  # NotFound for a story that does not exist
    return timelines.progress(story_id)


def record_click(
    story_id: int,
    user_id: int | None,
    referrer_domain: str,
    event_id: uuid.UUID | None = None,
    visitor: str = "",
) -> str:
    """Record a click through to a story (an event on the click stream); return the URL
    to redirect to, for every click. A retried click gives the same `event_id`: it is
    counted once; so are a visitor's clicks on the story within CLICK_DEDUP_SECONDS."""
    story = get_story(story_id)
    clicks.record(story_id, user_id, referrer_domain, event_id, visitor)
    return story["url"]


# --- Writing ------------------------------------------------------------------------


def _write_through(story: Story) -> None:
    record = _record(story)

    def on_commit() -> None:
        cache.set_if_newer(story_key(story.pk), record, RECORD_TTL)
        _new_search_generation()

    transaction.on_commit(on_commit)


def _new_search_generation() -> None:
    """After a story write commits: every cached search is stale. The new generation is
    the primary's WAL position now, which a search must see (`search`)."""
    try:
        position = wal_position()
    except DatabaseError as exc:  # the write is done: a random generation still hides the old results
        log.warning("could not read the WAL position after a story write: %s", exc)
        position = None
    cache.new_generation("search", position)


def _with_author(story: Story) -> dict:
    return {**_record(story), "author": User.objects.get(pk=story.author_id).as_dict()}


@transaction.atomic
def create_story(author_id: int, title: str, url: str, text: str) -> dict:
    """Inline: the story, the author's own timeline entry and the fan-out message, in one
    transaction. The followers' timelines are the fan-out consumer's job (news.timelines)."""
    story = Story.objects.create(author_id=author_id, title=title, url=url, text=text)
    timelines.add_own(story)
    outbox.enqueue("jobs.fanout", story_id=story.pk)
    _write_through(story)
    transaction.on_commit(lambda: cache.new_generation("story-list"))
    return _with_author(story)


@transaction.atomic
def update_story(story_id: int, editor_id: int, **fields: str) -> dict:
    story = _story_for_author(story_id, editor_id)
    for name, value in fields.items():
        setattr(story, name, value)
    story.version += 1
    story.save()
    _write_through(story)
    return _with_author(story)


@transaction.atomic
def delete_story(story_id: int, editor_id: int) -> None:
    story = _story_for_author(story_id, editor_id)
    story.delete()
    _invalidate_deleted({story_id: story.version})


def _story_for_author(story_id: int, editor_id: int) -> Story:
    story = Story.objects.select_for_update().filter(pk=story_id).first()
    if story is None:
        raise NotFound(f"No story {story_id}.")
    if story.author_id != editor_id:
        raise Forbidden("Only its author may change a story.")
    return story


def _invalidate_deleted(versions: dict[int, int]) -> None:
    """On commit, replace each cached story by a tombstone newer than any copy of it, so
    a slow reader cannot put the story back; then make every list unreachable."""
    tombstones = {
        story_key(pk): {"deleted": True, "version": version + 1} for pk, version in versions.items()
    }

    def on_commit() -> None:
        cache.set_many_if_newer(tombstones, RECORD_TTL)
        cache.new_generation("story-list")
        _new_search_generation()

    transaction.on_commit(on_commit)


def purge_stories(older_than_days: int) -> int:
    """The article's recipe for a write touching an unknown number of rows: select the
    matching ids, invalidate their cache keys, then delete them by primary key."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    # A story locked by an edit in flight is left for the next purge.
    return _delete_batched(Story.objects.filter(created_at__lt=cutoff), skip_locked=True)


def delete_by_author(author_id: int) -> int:
    """Every story of a member (their account is being closed), caches kept consistent."""
    return _delete_batched(Story.objects.filter(author_id=author_id), skip_locked=False)


def _delete_batched(stories: QuerySet[Story], skip_locked: bool) -> int:
    """Delete these stories by primary key, their cache keys replaced by tombstones, in
    batches, so that no transaction holds many locks for long. Returns how many."""
    deleted = 0
    while True:
        with transaction.atomic():
            batch = dict(
                stories.select_for_update(skip_locked=skip_locked)
                .order_by("pk")
                .values_list("pk", "version")[:PURGE_BATCH]
            )
            if not batch:
                return deleted
            Story.objects.filter(pk__in=list(batch)).delete()
            _invalidate_deleted(batch)
        deleted += len(batch)
