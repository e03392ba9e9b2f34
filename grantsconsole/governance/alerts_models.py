"""Alerts, where they go, and each attempt to deliver them."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import models

from grantsconsole.accounts import crypto
from grantsconsole.grants.models import OktaApp

#: the scope catalog's risk words, lowest first (``okta.scopes.RISK_RANK``)
RISKS = ("low", "medium", "high", "critical")


class Alert(models.Model):
    """Something a Super Admin must hear about (``governance.alerting.KINDS``):
    ``risk`` is one of RISKS, ``title`` one line in plain words, ``details``
    JSON facts (actor, source IP, ...). ``key`` makes raising idempotent: a
    second alert with the same key is not raised (None: no key). Times are
    aware UTC."""

    kind = models.CharField(max_length=40)
    risk = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    details = models.JSONField(default=dict)
    app = models.ForeignKey(
        OktaApp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scope_id = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} ({self.risk}): {self.title}"


class AlertDestination(models.Model):
    """Where alerts go: e-mail addresses, a Slack-compatible webhook, or a
    generic JSON webhook signed with HMAC-SHA256. Only alerts at or above
    ``min_risk`` whose kind is in ``kinds`` (empty: every kind) are sent.

    Secrets are encrypted at rest (``accounts.crypto``) and shown masked: the
    Slack webhook URL (it is its own credential) and the JSON webhook's
    signing secret. The JSON webhook's URL is stored encrypted too, for one
    rule: every webhook URL is read through :attr:`url`.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        SLACK = "slack", "Slack-compatible webhook"
        WEBHOOK = "webhook", "JSON webhook (HMAC-SHA256 signed)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    emails = models.CharField(max_length=1000, blank=True)  # comma-separated
    url_encrypted = models.TextField(blank=True)
    secret_encrypted = models.TextField(blank=True)
    min_risk = models.CharField(max_length=16, default="high")
    kinds = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    created_by = models.CharField(max_length=300, blank=True)
    updated_by = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        return crypto.decrypt(self.url_encrypted)

    @url.setter
    def url(self, value: str) -> None:
        self.url_encrypted = crypto.encrypt(value)

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value)

    @property
    def recipients(self) -> list[str]:
        return [a.strip() for a in self.emails.split(",") if a.strip()]

    @property
    def shown_target(self) -> str:
        """What the pages show of the target: the addresses; a JSON webhook's
        scheme, host and path; only the host of a Slack URL (its path is the
        credential)."""
        if self.kind == self.Kind.EMAIL:
            return ", ".join(self.recipients)
        parts = urlsplit(self.url)
        if self.kind == self.Kind.SLACK:
            return f"{parts.scheme}://{parts.netloc}/••••"
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def wants(self, kind: str, risk: str) -> bool:
        """True when this destination takes alerts of ``kind`` at ``risk``."""
        return (
            self.enabled
            and RISKS.index(risk) >= RISKS.index(self.min_risk)
            and (not self.kinds or kind in self.kinds)
        )


class AlertDelivery(models.Model):
    """One alert to one destination: ``attempts`` so far, the last answer
    (``status_code`` of a webhook, ``error`` in plain words), ``next_retry_at``
    while retrying, ``delivered_at`` once delivered. A destination deleted
    later leaves its deliveries, named by ``destination_name``."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RETRYING = "retrying", "retrying"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="deliveries"
    )
    destination = models.ForeignKey(
        AlertDestination,
        null=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    destination_name = models.CharField(max_length=100)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"alert {self.alert_id} to {self.destination_name}: {self.status}"
