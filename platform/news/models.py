"""The demo product's data: members and the stories they post."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A member. A custom user model from day one, as Django recommends."""

    name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=500, blank=True)

    def as_dict(self) -> dict:
        return {"id": self.pk, "username": self.username, "name": self.name or self.username}


class Story(models.Model):
    author = models.ForeignKey(User, on_delete=models.CASCADE, related_name="stories")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    text = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.title
