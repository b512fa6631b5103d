"""The demo product's data: members, who follows whom, stories and their clicks."""

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class User(AbstractUser):
    """A member. A custom user model from day one, as Django recommends.

    `version` grows with every change, and travels with the cached copy, so an
    older value can never overwrite a newer one in the cache (news.cache).
    """

    name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    version = models.PositiveBigIntegerField(default=1)
    followers_count = models.PositiveIntegerField(default=0)
    following_count = models.PositiveIntegerField(default=0)
    avatar_version = models.PositiveIntegerField(default=0, help_text="0: no avatar uploaded")

    def as_dict(self) -> dict:
        """The cached and served representation: public fields only."""
        return {
            "id": self.pk,
            "username": self.username,
            "name": self.name or self.username,
            "bio": self.bio,
            "followers_count": self.followers_count,
            "following_count": self.following_count,
            "avatar_version": self.avatar_version,
            "date_joined": self.date_joined.isoformat(),
            "version": self.version,
        }


class Avatar(models.Model):
    """A member's picture, re-encoded to a small PNG by the platform."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="avatar")
    image = models.BinaryField()
    content_type = models.CharField(max_length=32, default="image/png")


class Follow(models.Model):
    follower = models.ForeignKey(User, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(User, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="no_self_follow"),
        ]
        indexes = [models.Index(fields=["followee", "follower"])]


class Story(models.Model):
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="stories")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    text = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveBigIntegerField(default=1)
    # When the fan-out consumer had written it into every follower's timeline.
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "stories"
        indexes = [
            # A member's stories and the home timeline: newest first per author.
            models.Index(fields=["author", "-created_at"], name="story_author_newest"),
            # Search over titles: Postgres full-text search.
            GinIndex(SearchVector("title", config="english"), name="story_title_search"),
        ]

    def __str__(self) -> str:
        return self.title


class Click(models.Model):
    """One click through to a story's URL, with the domain that referred the reader."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="clicks")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    referrer_domain = models.CharField(max_length=253, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The click event's id: a redelivered event is stored once.
    event_id = models.UUIDField(null=True, unique=True)


class TimelineEntry(models.Model):
    """One story in one member's home timeline (fan-out on write).

    Posting writes the author's own entry inline; the fan-out consumer writes the
    followers' entries off-line, in batches. Unique on (member, story), so a
    redelivered fan-out message has one effect.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Indexed (the default for a foreign key): fan-out progress, and deleting a story.
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="+")
    # Copied from the story, so that a timeline page is one index range, with no join.
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", db_index=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "story"], name="timeline_once")]
        indexes = [models.Index(fields=["user", "-created_at", "-story"], name="timeline_newest")]


class Suggestions(models.Model):
    """Suggested stories for one member: a pre-generated index, computed off-line from
    clicks and the follow graph, read with one primary-key lookup."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    story_ids = ArrayField(models.BigIntegerField())
    computed_at = models.DateTimeField()


class ReferrerVisits(models.Model):
    """Precalculated: visits per referring domain per hour and per day, the article's
    own example. Written by the rollup jobs; the analytics page reads only this."""

    HOUR, DAY = "hour", "day"

    period = models.CharField(max_length=4, choices=[(HOUR, "hour"), (DAY, "day")])
    bucket_start = models.DateTimeField()
    domain = models.CharField(max_length=253, help_text="'' for visits with no referrer")
    visits = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "bucket_start", "domain"], name="one_count_per_bucket")
        ]
