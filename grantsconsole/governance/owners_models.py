"""Who answers for an app's grants."""

from __future__ import annotations

from django.db import models

from grantsconsole.grants.models import OktaApp


class AppOwner(models.Model):
    """The owner of an app that holds grants: an Okta user, named by id and
    login. ``source`` is "default" (the admin who granted the app's riskiest
    scope) or "assigned" (set by a Super Admin, ``assigned_by``).
    ``orphaned_at`` is set when the owner's Okta user is deactivated (System
    Log ``user.lifecycle.deactivate``); the app is then orphaned until a new
    owner is assigned. Times are aware UTC."""

    class Source(models.TextChoices):
        DEFAULT = "default", "granted its riskiest scope"
        ASSIGNED = "assigned", "assigned"

    app = models.OneToOneField(OktaApp, on_delete=models.CASCADE, related_name="owner")
    okta_user_id = models.CharField(max_length=64, blank=True)
    login = models.CharField(max_length=300)
    source = models.CharField(max_length=16, choices=Source.choices)
    assigned_by = models.CharField(max_length=300, blank=True)
    assigned_at = models.DateTimeField()
    orphaned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.login} owns {self.app_id}"
