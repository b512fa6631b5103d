"""Operators: the members whose account is flagged as staff (Django's `is_staff`). They
may see the detailed status (news.api.ops): versions, WAL positions, server names and
the raw text of errors. `python manage.py set_operator <username> [--off]` (make
operator USERNAME=...) grants the flag or takes it back.

Read on the primary and never cached: a flag taken back counts from the next request,
whatever the replica's lag (while the primary is down, from the read pool).
"""

from news.errors import NotFound
from news.models import User
from platform_layer.db import fresh_alias


def is_operator(user_id: int) -> bool:
    return User.objects.using(fresh_alias()).filter(pk=user_id, is_staff=True, is_active=True).exists()


def set_operator(username: str, operator: bool) -> None:
    """Make the member an operator, or no longer one; NotFound when no member has that name."""
    if not User.objects.filter(username__iexact=username).update(is_staff=operator):
        raise NotFound(f"No member is called {username!r}.")
