"""API tokens: scripts and dashboards read the JSON API as a user, without a browser session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

TOKEN_PREFIX = "mkb_"
MAX_TOKEN_LENGTH = 100
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(key: str) -> str:
    # The keys are 256 random bits: a fast hash is enough, and it lets the lookup be one indexed query.
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @classmethod
    def issue(cls, user, name: str) -> tuple[ApiToken, str]:
        """Create a token; the key is returned once and only its digest is stored."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[:12], digest=_digest(key))
        return token, key

    @classmethod
    def user_for(cls, key: str):
        """The active user a key belongs to, or None."""
        if not key.startswith(TOKEN_PREFIX) or len(key) > MAX_TOKEN_LENGTH:
            return None
        token = cls.objects.select_related("user").filter(digest=_digest(key)).first()
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        # At most one write a minute per token, however often a script polls.
        cls.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        return token.user
