import uuid

from django.conf import settings
from django.db import models


class SignIn(models.Model):
    """One login of a member. The assertion signed for it acts for the member until it
    expires or the member logs out (revoked_at)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)


class LoginFailures(models.Model):
    """Wrong passwords given for one account since its last successful login."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    count = models.PositiveIntegerField(default=0)
    last_failed_at = models.DateTimeField(null=True)
