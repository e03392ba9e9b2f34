"""Server-side custody of the signed-in admins' Okta tokens.

One :class:`OktaCredential` row per signed-in browser session, created after a
successful sign-in of a Super Admin or an auditor and deleted (and revoked at Okta) on sign-out,
timeout or a failed role re-check. Token columns hold Fernet ciphertext only
(:mod:`grantsconsole.accounts.crypto`); plaintext never reaches the database,
a log line or a repr.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from grantsconsole.accounts import crypto


class OktaCredential(models.Model):
    """The Okta tokens of one admin session (Org Authorization Server, user context).

    Times are aware UTC datetimes. ``scopes`` is the space-separated ``scope`` of
    the token response (the scopes Okta actually put in the access token).
    ``auth_time`` is the ID token's ``auth_time`` (when the admin last
    authenticated at Okta); ``role_checked_at`` is when
    ``GET /api/v1/users/{uid}/roles`` last confirmed ``access``: ``super_admin``
    (the whole console) or ``auditor`` (reads of the audit, reports, exports and
    Console health; :mod:`grantsconsole.accounts.roles`). ``groups`` are the
    names in the ID token's ``groups`` claim at sign-in (empty without one).
    """

    SUPER_ADMIN = "super_admin"
    AUDITOR = "auditor"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="okta_credentials",
    )
    okta_user_id = models.CharField(max_length=64, help_text="ID token `sub`.")
    login = models.CharField(max_length=255, blank=True)
    access_token_enc = models.TextField()
    refresh_token_enc = models.TextField(blank=True)
    id_token_enc = models.TextField(blank=True)
    access_expires_at = models.DateTimeField()
    scopes = models.TextField(blank=True)
    auth_time = models.DateTimeField()
    amr = models.JSONField(
        default=list, blank=True, help_text="ID token `amr` (e.g. pwd, otp, mfa)."
    )
    role_checked_at = models.DateTimeField()
    access = models.CharField(
        max_length=16,
        choices=[(SUPER_ADMIN, "Super Admin"), (AUDITOR, "Auditor")],
        default=SUPER_ADMIN,
    )
    groups = models.JSONField(
        default=list, blank=True, help_text="ID token `groups` at sign-in."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["last_used_at"])]

    def __str__(self) -> str:
        return f"Okta session of {self.login or self.okta_user_id}"

    def __repr__(self) -> str:
        return f"<OktaCredential {self.pk} user={self.okta_user_id!r}>"

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_enc)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_enc)

    @property
    def id_token(self) -> str:
        return crypto.decrypt(self.id_token_enc)

    def set_tokens(
        self, *, access_token: str, refresh_token: str = "", id_token: str = ""
    ) -> None:
        """Encrypt and set tokens; an empty refresh or ID token keeps the old one."""
        self.access_token_enc = crypto.encrypt(access_token)
        if refresh_token:
            self.refresh_token_enc = crypto.encrypt(refresh_token)
        if id_token:
            self.id_token_enc = crypto.encrypt(id_token)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class SecurityEvent(models.Model):
    """Refused requests that carry no signed-in admin (forged sign-in callbacks,
    writes without a session or CSRF token, rate-limited callers), counted per
    source, kind and minute instead of one hash-chained audit row each: anyone
    can send them, so they must neither grow the audit chain nor take its lock.

    ``source`` is the client address (an IPv6 address is cut to its /64, which
    one attacker holds in full). ``kind`` is ``not_signed_in``, ``csrf``,
    ``rate_limited`` or ``sign_in:<reason>`` (a key of ``refusals.FAILURES``).
    Both are ``"*"`` in the overflow row that counts a minute's refusals past
    ``security_events.ROWS_PER_MINUTE`` rows. ``minute`` is the
    start of the UTC minute; ``first_seen``/``last_seen`` are UTC; ``sample_path``
    is the first refused request's path, cut to 200 characters. Rows older than
    ``SECURITY_EVENT_RETENTION_DAYS`` are purged daily
    (``accounts.purge_security_events``).
    """

    source = models.CharField(max_length=64)
    kind = models.CharField(max_length=48)
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    sample_path = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["minute", "source", "kind"], name="security_event_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} x {self.kind} from {self.source} at {self.minute:%H:%M}"
