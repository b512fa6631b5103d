"""What the unit tests share: members and follows with names that never collide, and
a look at the raw cache."""

import json
import uuid

from news.cache import cache
from news.models import Follow, User


def member(name: str) -> User:
    return User.objects.create(username=f"{name}_{uuid.uuid4().hex[:6]}", name=name)


def follow(follower: User, followee: User) -> None:
    Follow.objects.create(follower=follower, followee=followee)


def cached(key: str) -> dict | None:
    """What the cache holds under `key`, bypassing the hit and miss counters."""
    raw = cache.client.get(key)
    return None if raw is None else json.loads(raw)
