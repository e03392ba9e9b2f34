"""Usage evidence: raw events for a short window, daily roll-ups for years.

Apps are keyed by their OAuth ``client_id`` (what the System Log names), not by
a foreign key: evidence outlives the app's row and arrives before a sync has
seen a new app. All times are aware UTC; ``day`` is a UTC date.

Usage rows are not hash-chained (too many); the daily roll-ups of closed days
are signed into the audit checkpoints instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class Kind(models.TextChoices):
    ISSUED = "issued", "issued in a token"
    EXERCISED = "exercised", "exercised by a logged write"
    DENIED = "denied", "requested, not granted"


class UsageEvent(models.Model):
    """One System Log event that is usage evidence, kept for
    ``settings.USAGE_RAW_RETENTION_DAYS`` (the roll-ups keep the rest).

    ``scopes``: the ``okta.*`` scopes it is evidence for, space-separated (the
    granted scopes of an issuance, the requested ones of a denial, the mapped
    scope of a write). ``uuid`` is the event's, so a page read twice is
    recorded once.
    """

    uuid = models.CharField(max_length=64, unique=True)
    published = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    client_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=200)
    scopes = models.TextField()
    grant_type = models.CharField(max_length=64, blank=True)
    client_auth_type = models.CharField(max_length=64, blank=True)
    actor_id = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["published"], name="usage_event_published_idx"),
            models.Index(
                fields=["client_id", "published"], name="usage_event_client_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.scopes} by {self.client_id} at {self.published}"


class DailyUsage(models.Model):
    """How often one app's ``scope_id`` was issued, exercised and denied on one
    UTC ``day``. Kept for ``settings.USAGE_ROLLUP_RETENTION_DAYS`` (years), so
    "unused for 365 days" stays provable after Okta has dropped the events."""

    client_id = models.CharField(max_length=200)
    scope_id = models.CharField(max_length=200)
    day = models.DateField()
    issued = models.PositiveIntegerField(default=0)
    exercised = models.PositiveIntegerField(default=0)
    denied = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["client_id", "scope_id", "day"], name="usage_daily_unique"
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["day"], name="usage_daily_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.scope_id} {self.day}"


class ScopeUsage(models.Model):
    """The latest evidence for one app and scope, kept with the roll-ups so the
    pages read one row per grant: when it was last issued in a token, last
    exercised by a logged write and last requested and denied (None: never
    observed)."""

    client_id = models.CharField(max_length=200)
    scope_id = models.CharField(max_length=200)
    last_issued_at = models.DateTimeField(null=True, blank=True)
    last_exercised_at = models.DateTimeField(null=True, blank=True)
    last_denied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["client_id", "scope_id"], name="usage_scope_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.scope_id}"


class Observation(models.Model):
    """What stretch of the System Log the console has read completely.

    ``observed_from``: the start of the newest unbroken stretch (the first
    poll's ``since``, or the end of the last gap); ``observed_to``: events up
    to here have all been read. Coverage is the stretch between them; a
    verdict of "unused" needs the whole window inside it.
    """

    name = models.CharField(max_length=100, unique=True, default="usage")
    observed_from = models.DateTimeField(null=True, blank=True)
    observed_to = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"usage observed {self.observed_from} to {self.observed_to}"


class Gap(models.Model):
    """A stretch of the System Log the console could not read: it was down
    longer than Okta keeps events, or Okta refused the stored cursor. Shown on
    the pages; coverage restarts after it."""

    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    reason = models.TextField()
    detected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-started_at"]

    def __str__(self) -> str:
        return f"gap {self.started_at} to {self.ended_at}"


class SkippedEvents(models.Model):
    """Events that could not be used, counted per UTC ``day`` and ``reason``
    (malformed, unknown event type, missing ``client.id``, ``grantedScopes``
    in an unexpected shape, …), with one ``example_uuid`` to look up."""

    day = models.DateField()
    reason = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)
    example_uuid = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["day", "reason"], name="usage_skip_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.count} skipped on {self.day}: {self.reason}"
