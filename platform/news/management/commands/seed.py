"""Load a demo world: members and their stories.

python manage.py seed --if-empty          # first start (the one-shot `migrate` service)
python manage.py seed --users 500 --stories 5000 --reset
"""

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from news.models import Story, User

WORDS = [
    "scale",
    "cache",
    "queue",
    "replica",
    "shard",
    "proxy",
    "latency",
    "cluster",
    "index",
    "stream",
    "rollup",
    "failover",
    "balancer",
    "edge",
    "platform",
    "consumer",
    "cron",
    "redis",
    "postgres",
    "rabbit",
    "nginx",
    "django",
    "python",
    "docker",
    "kernel",
    "network",
    "memory",
    "disk",
    "socket",
    "thread",
    "async",
    "graph",
]
DOMAINS = ["example.com", "example.org", "news.example.net", "blog.example.io", "docs.example.dev"]
DEMO_PASSWORD = "demo"  # every demo member logs in with it; documented in the README
BATCH = 5000


class Command(BaseCommand):
    help = "Load demo members and stories (idempotent with --if-empty)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--stories", type=int, default=10000)
        parser.add_argument("--seed", type=int, default=42, help="random seed, for a repeatable world")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--if-empty", action="store_true", help="do nothing when members exist")
        group.add_argument("--reset", action="store_true", help="delete all members and stories first")

    def handle(self, *args, users: int, stories: int, seed: int, if_empty: bool, reset: bool, **_) -> None:
        if users < 1 or stories < 0:
            raise CommandError("--users must be at least 1 and --stories at least 0.")
        if if_empty and User.objects.exists():
            self.stdout.write("Demo data already loaded: nothing to do.")
            return
        rng = random.Random(seed)
        with transaction.atomic():
            if reset:
                Story.objects.all().delete()
                User.objects.all().delete()
            members = self._members(users)
            self._stories(rng, members, stories)
        self.stdout.write(self.style.SUCCESS(f"Loaded {users} members and {stories} stories."))

    def _members(self, count: int) -> list[User]:
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow on purpose
        members = [
            User(username=f"user{i}", name=f"Demo Member {i}", password=password) for i in range(1, count + 1)
        ]
        return User.objects.bulk_create(members, batch_size=BATCH)

    def _stories(self, rng: random.Random, members: list[User], count: int) -> None:
        # Zipf-like weights: a few prolific members post most stories, as in real communities.
        weights = [1 / rank for rank in range(1, len(members) + 1)]
        authors = rng.choices(members, weights=weights, k=count)
        now = timezone.now()
        batch: list[Story] = []
        for i, author in enumerate(authors):
            words = rng.sample(WORDS, 4)
            batch.append(
                Story(
                    author=author,
                    title=" ".join(words).capitalize(),
                    url=f"https://{rng.choice(DOMAINS)}/{'-'.join(words)}-{i}",
                    created_at=now - timedelta(seconds=rng.randint(0, 30 * 24 * 3600)),
                )
            )
            if len(batch) == BATCH:
                Story.objects.bulk_create(batch)
                batch.clear()
        Story.objects.bulk_create(batch)
