"""Closing a member's account: the member and everything of theirs go, and the rest of
the site stays right: the counts of whom they followed and of who followed them,
timelines, and every cache (news.members, news.stories)."""

from django.db import transaction

from news import members, stories
from news.models import Follow, User


@transaction.atomic
def close(user_id: int) -> None:
    for followee_id in list(Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True)):
        members.unfollow(user_id, followee_id)
    for follower_id in list(Follow.objects.filter(followee_id=user_id).values_list("follower_id", flat=True)):
        members.unfollow(follower_id, user_id)
    stories.delete_by_author(user_id)
    members.delete(user_id)


def close_all(username_prefix: str) -> int:
    """Close every account whose username starts with the prefix; return how many."""
    ids = list(User.objects.filter(username__startswith=username_prefix).values_list("pk", flat=True))
    for user_id in ids:
        close(user_id)
    return len(ids)
