"""Attestation campaigns: owners or Super Admins confirm or revoke each
critical and high grant."""

from __future__ import annotations

from typing import ClassVar

from django.db import models

from grantsconsole.grants.models import OktaApp, ScopeGrant


class Campaign(models.Model):
    """One attestation campaign: every critical and high grant held when it
    started (its :class:`AttestationItem` rows), answered by ``due_at``.
    ``trigger`` is "beat" (the schedule) or "console" (``started_by``, an
    Okta login, pressed "Start a campaign"). ``closed_at`` is set when the last
    item is answered. Times are aware UTC."""

    started_at = models.DateTimeField()
    started_by = models.CharField(max_length=300, blank=True)
    trigger = models.CharField(max_length=16)
    due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"Campaign #{self.pk} of {self.started_at:%Y-%m-%d}"


class AttestationItem(models.Model):
    """One grant to attest: ``app`` holding ``scope_id`` at ``risk``
    ("critical" or "high", the scope catalog's word) when the campaign started,
    with the app's owner then (``owner_login``/``owner_okta_id``, "" when the
    app had none: a Super Admin answers).

    ``decision`` is "" (open), "confirm" or "revoke", by ``answered_by`` (an
    Okta login) at ``answered_at`` with ``comment``. A "revoke" answer is
    carried out through the console's write path: ``revoke_state`` is "done"
    (Okta revoked it, or it was already gone), "failed" (Okta refused:
    ``revoke_message``), or "queued" when the answer came from an owner who is
    not a Super Admin (only a Super Admin may revoke ``okta.*`` scopes) and
    waits for one; ``revoke_audit_seq`` is the seq of the revoke's final audit
    row."""

    class Decision(models.TextChoices):
        OPEN = "", "open"
        CONFIRM = "confirm", "confirmed"
        REVOKE = "revoke", "revoke"

    class RevokeState(models.TextChoices):
        NONE = "", "—"
        QUEUED = "queued", "waiting for a Super Admin"
        DONE = "done", "revoked"
        FAILED = "failed", "revoke failed"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="items"
    )
    app = models.ForeignKey(OktaApp, on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey(
        ScopeGrant, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope_id = models.CharField(max_length=200)
    risk = models.CharField(max_length=16)
    owner_login = models.CharField(max_length=300, blank=True)
    owner_okta_id = models.CharField(max_length=64, blank=True)
    decision = models.CharField(
        max_length=16, choices=Decision.choices, blank=True, default=""
    )
    comment = models.TextField(blank=True)
    answered_by = models.CharField(max_length=300, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    revoke_state = models.CharField(
        max_length=16, choices=RevokeState.choices, blank=True, default=""
    )
    revoke_message = models.TextField(blank=True)
    revoke_audit_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["campaign", "app__label", "scope_id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["campaign", "app", "scope_id"],
                name="governance_attest_item_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope_id} on {self.app_id} (campaign {self.campaign_id})"


class AttestationReminder(models.Model):
    """One reminder e-mail to ``recipient`` (an owner's login, lower case) on
    ``sent_on`` (a UTC date): the unique pair is what keeps reminders to at
    most one per owner per day, however often the task runs."""

    recipient = models.CharField(max_length=300)
    sent_on = models.DateField()
    items = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["recipient", "sent_on"],
                name="governance_attest_reminder_daily",
            ),
        ]

    def __str__(self) -> str:
        return f"reminder to {self.recipient} on {self.sent_on}"
