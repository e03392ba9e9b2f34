"""Requests for a grant that a second Super Admin must approve."""

from __future__ import annotations

from django.db import models

from grantsconsole.grants.models import OktaApp


class GrantRequest(models.Model):
    """A Super Admin's request to grant ``scope_id`` to ``app``, waiting for
    another Super Admin. ``requester_id``/``requester_login``: the requester's
    Okta user id and login; ``justification``: why (required);
    ``requested_ends_at``: the end time the grant gets once approved (None: no
    end). ``expires_at``: past it a pending request expires. ``decided_by_*``,
    ``decided_at`` and ``reason`` are set when it leaves "pending": approved
    (the grant ran with the approver's token), denied, expired, or failed (the
    grant could not run, e.g. the app was deleted; ``reason`` says why). Times
    are aware UTC."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        APPROVED = "approved", "approved"
        DENIED = "denied", "denied"
        EXPIRED = "expired", "expired"
        FAILED = "failed", "failed"

    app = models.ForeignKey(
        OktaApp, on_delete=models.PROTECT, related_name="grant_requests"
    )
    scope_id = models.CharField(max_length=200)
    requester_id = models.CharField(max_length=64)
    requester_login = models.CharField(max_length=300)
    justification = models.TextField()
    requested_ends_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    decided_by_id = models.CharField(max_length=64, blank=True)
    decided_by_login = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.scope_id} for {self.app_id}: {self.state}"
