"""Load a demo world: members, a skewed follower graph, stories and their clicks.

    python manage.py seed --if-empty                      # first start (the `migrate` service)
    python manage.py seed --reset --users 500 --stories 5000

Rows go in with COPY, the fastest way into Postgres: 10,000 members and 100,000
stories load in seconds. The cache is flushed after a reset, since it would
otherwise hold members and stories that no longer exist.
"""

import heapq
import itertools
import os
import random
import time
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from jobqueue import slot_start
from jobs import outbox
from news import rollups, timelines
from news.cache import cache
from news.models import User

FIRST = "Ada Alan Barbara Brian Carol Dennis Edsger Frances Grace Guido Hedy Jean Ken Linus Margaret".split()
LAST = (
    "Hopper Turing Liskov Kernighan Ritchie Dijkstra Allen Lovelace Thompson Torvalds Hamilton Wirth".split()
)
WORDS = """
    scale cache queue replica shard proxy latency cluster index stream rollup failover balancer edge
    platform consumer cron redis postgres rabbit nginx django python docker kernel network memory disk
    socket thread async graph search timeline fanout database
""".split()
DOMAINS = ["example.com", "example.org", "news.example.net", "blog.example.io", "docs.example.dev"]
# Where clicks come from, with how often: the rollups of a later step chart these.
REFERRERS = [
    ("", 30),
    ("news.ycombinator.com", 20),
    ("www.google.com", 15),
    ("www.reddit.com", 12),
    ("twitter.com", 8),
    ("lobste.rs", 6),
    ("www.facebook.com", 5),
    ("duckduckgo.com", 4),
]
# Every demo member logs in with DEMO_PASSWORD (.env). The public one, printed in the
# README, is refused unless the stack is published on loopback only (BIND_ADDRESS).
PUBLIC_DEMO_PASSWORD = "demo-password"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
CELEBRITIES = 5  # accounts followed by most members: the skew that makes fan-out hard
DAYS = 60
CLICK_DAYS = 7  # clicks span the last week: the rollups and suggestions look at it


class Command(BaseCommand):
    help = "Load demo members, follows, stories and clicks (idempotent with --if-empty)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=10_000)
        parser.add_argument("--stories", type=int, default=100_000)
        parser.add_argument("--clicks-per-story", type=float, default=2.0)
        parser.add_argument("--seed", type=int, default=42, help="random seed, for a repeatable world")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--if-empty", action="store_true", help="do nothing when members exist")
        group.add_argument("--reset", action="store_true", help="delete every member and story first")

    def handle(self, *args: Any, **options: Any) -> None:
        users, stories = options["users"], options["stories"]
        if not 1 <= users <= 1_000_000 or not 0 <= stories <= 10_000_000:
            raise CommandError("--users must be 1 to 1,000,000 and --stories 0 to 10,000,000.")
        if options["clicks_per_story"] < 0:
            raise CommandError("--clicks-per-story must not be negative.")
        self.password = demo_password()
        if options["if_empty"] and User.objects.exists():
            self.stdout.write(f"Demo data already loaded: nothing to do{self._change_password(users)}.")
            return
        started = time.monotonic()
        rng = random.Random(options["seed"])
        with transaction.atomic(), connection.cursor() as cursor:
            if options["reset"]:
                tables = (
                    "news_click, news_follow, news_story, news_avatar, news_user, news_timelineentry, "
                    "news_suggestions, news_referrervisits, jobs_export"
                )
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            user_ids = self._members(cursor, rng, users)
            followees = self._follows(cursor, rng, user_ids)
            stories_by = self._stories(cursor, rng, user_ids, stories)
            entries = self._timelines(cursor, followees, stories_by)
            story_ids = sorted(story_id for by_author in stories_by.values() for _, story_id in by_author)
            clicks = self._clicks(
                cursor, rng, user_ids, story_ids, int(stories * options["clicks_per_story"])
            )
            # Precalculated results for the history just loaded; from now on, the rollup jobs.
            rollups.backfill(CLICK_DAYS)
            # Suggestions are the consumers' job: ask for a run, published when this commits.
            slot = slot_start("refresh-suggestions").isoformat()
            outbox.enqueue("jobs.refresh_suggestions", slot=slot, published_by="seed")
        if options["reset"]:
            cache.flush()
        follows = sum(len(f) for f in followees.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {users} members, {follows} follows, {stories} stories, {entries} timeline "
                f"entries and {clicks} clicks in {time.monotonic() - started:.1f}s."
            )
        )

    def _change_password(self, count: int) -> str:
        """Give the demo members DEMO_PASSWORD, if it changed since they were loaded."""
        first = User.objects.filter(username="user1").first()
        if first is None or check_password(self.password, first.password):
            return ""
        names = [f"user{i}" for i in range(1, count + 1)]
        changed = User.objects.filter(username__in=names).update(password=make_password(self.password))
        return f", but the demo members' password changed ({changed} members)"

    def _members(self, cursor: CursorWrapper, rng: random.Random, count: int) -> list[int]:
        password = make_password(self.password)  # hashed once: hashing is slow on purpose
        now = timezone.now()
        first_id = self._next_id(cursor, "news_user")
        columns = (
            "username, name, bio, password, is_superuser, is_staff, is_active, first_name, last_name, email, "
            "date_joined, version, followers_count, following_count, avatar_version"
        )
        with cursor.copy(f"COPY news_user ({columns}) FROM STDIN") as copy:
            for i in range(first_id, first_id + count):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                joined = now - timedelta(seconds=rng.randint(0, DAYS * 86400))
                copy.write_row(
                    (f"user{i}", name, "", password, False, False, True, "", "", "", joined, 1, 0, 0, 0)
                )
        cursor.execute("SELECT id FROM news_user WHERE id >= %s ORDER BY id", [first_id])
        return [row[0] for row in cursor.fetchall()]

    def _follows(self, cursor: CursorWrapper, rng: random.Random, user_ids: list[int]) -> dict[int, set[int]]:
        """A skewed graph: a few celebrities followed by most members, then a long tail
        where popular members are likelier to be followed (Zipf-like weights)."""
        celebrities = user_ids[:CELEBRITIES]
        weights = [1 / rank for rank in range(1, len(user_ids) + 1)]
        now = timezone.now()
        graph: dict[int, set[int]] = {}
        with cursor.copy("COPY news_follow (follower_id, followee_id, created_at) FROM STDIN") as copy:
            for follower in user_ids:
                followees = {c for c in celebrities if rng.random() < 0.8}
                followees.update(
                    rng.choices(user_ids, weights=weights, k=min(int(rng.lognormvariate(2.5, 0.8)), 200))
                )
                followees.discard(follower)
                for followee in followees:
                    copy.write_row(
                        (follower, followee, now - timedelta(seconds=rng.randint(0, DAYS * 86400)))
                    )
                graph[follower] = followees
        cursor.execute(
            """
            UPDATE news_user u SET
              followers_count = (SELECT count(*) FROM news_follow f WHERE f.followee_id = u.id),
              following_count = (SELECT count(*) FROM news_follow f WHERE f.follower_id = u.id)
            """
        )
        return graph

    def _stories(
        self, cursor: CursorWrapper, rng: random.Random, user_ids: list[int], count: int
    ) -> dict[int, list]:
        """Returns each author's stories as (created_at, id), newest first."""
        first_id = self._next_id(cursor, "news_story")
        weights = [1 / rank for rank in range(1, len(user_ids) + 1)]
        authors = rng.choices(user_ids, weights=weights, k=count)
        now = timezone.now()
        # The demo world's stories count as fanned out: their timelines are backfilled below.
        columns = "author_id, title, url, text, created_at, updated_at, version, fanned_out_at"
        with cursor.copy(f"COPY news_story ({columns}) FROM STDIN") as copy:
            for i, author in enumerate(authors):
                words = rng.sample(WORDS, 4)
                created = now - timedelta(seconds=rng.randint(0, DAYS * 86400))
                url = f"https://{rng.choice(DOMAINS)}/{'-'.join(words)}-{first_id + i}"
                copy.write_row((author, " ".join(words).capitalize(), url, "", created, created, 1, created))
        cursor.execute(
            "SELECT author_id, created_at, id FROM news_story WHERE id >= %s "
            "ORDER BY created_at DESC, id DESC",
            [first_id],
        )
        by_author: dict[int, list] = {}
        for author, created, story_id in cursor.fetchall():
            by_author.setdefault(author, []).append((created, story_id))
        return by_author

    def _timelines(
        self, cursor: CursorWrapper, followees: dict[int, set[int]], stories_by: dict[int, list]
    ) -> int:
        """Each member's timeline holds the newest stories of whom they follow and their
        own, as many as a new follow copies (news.timelines.BACKFILL); from now on, the
        fan-out writes them. Merged here from the lists in memory, then copied."""
        count = 0
        with cursor.copy(
            "COPY news_timelineentry (user_id, story_id, author_id, created_at) FROM STDIN"
        ) as copy:
            for user, authors in followees.items():
                streams = [
                    ((created, story_id, author) for created, story_id in stories_by.get(author, ()))
                    for author in (*authors, user)
                ]
                newest = heapq.merge(*streams, reverse=True)
                for created, story_id, author in itertools.islice(newest, timelines.BACKFILL):
                    copy.write_row((user, story_id, author, created))
                    count += 1
        return count

    def _clicks(
        self, cursor: CursorWrapper, rng: random.Random, user_ids: list[int], story_ids: list[int], count: int
    ) -> int:
        if not story_ids:
            return 0
        domains, domain_weights = zip(*REFERRERS, strict=True)
        now = timezone.now()
        with cursor.copy(
            "COPY news_click (story_id, user_id, referrer_domain, created_at, event_id) FROM STDIN"
        ) as copy:
            for _ in range(count):
                # Clicks favour some stories (a long tail), and a third come from readers not logged in.
                story = story_ids[min(int(rng.paretovariate(1.5) * 10) - 10, len(story_ids) - 1)]
                user = rng.choice(user_ids) if rng.random() < 0.66 else None
                domain = rng.choices(domains, weights=domain_weights)[0]
                at = now - timedelta(seconds=rng.randint(0, CLICK_DAYS * 86400))
                copy.write_row((story, user, domain, at, uuid.UUID(int=rng.getrandbits(128), version=4)))
        return count

    @staticmethod
    def _next_id(cursor: CursorWrapper, table: str) -> int:
        cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def demo_password() -> str:
    """DEMO_PASSWORD, unless it is the public one on a stack published beyond loopback."""
    password = os.environ.get("DEMO_PASSWORD") or PUBLIC_DEMO_PASSWORD
    bind = os.environ.get("BIND_ADDRESS", "127.0.0.1")
    if password == PUBLIC_DEMO_PASSWORD and bind not in LOOPBACK and not bind.startswith("127."):
        raise CommandError(
            f"BIND_ADDRESS is {bind}: the stack would be reachable from other machines, and its "
            f"{PUBLIC_DEMO_PASSWORD!r} accounts, the password printed in the README, open to anyone. "
            "Set DEMO_PASSWORD in .env to a password of your own (the demo members get it at the "
            "next start), or publish on 127.0.0.1."
        )
    return password
