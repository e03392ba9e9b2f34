"""Policy state: the versions of the policy document and the findings of its
evaluation."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from grantsconsole.grants.models import OktaApp


class PolicyVersion(models.Model):
    """One valid version of the policy document (an invalid text is never
    stored: it is refused and audited, and the latest version stays in
    force). The newest row is the policy in force.

    ``source`` says where the text came from: "file" (the YAML file at
    ``settings.GOVERNANCE_POLICY_FILE``, read again at each evaluation; a new
    version only when the file's text changes, ``path`` names it) or
    "console" (the editor; ``author`` is the Super Admin's Okta login).
    ``sha256`` is the text's digest (hex)."""

    class Source(models.TextChoices):
        FILE = "file", "policy file"
        CONSOLE = "console", "console editor"

    text = models.TextField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=8, choices=Source.choices)
    path = models.CharField(max_length=500, blank=True)
    author = models.CharField(max_length=300)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar[list[str]] = ["-pk"]

    def __str__(self) -> str:
        return f"policy v{self.pk} ({self.source}, {self.author})"


class PolicyFinding(models.Model):
    """A place where the org does not match the policy: ``rule_id`` (a rule's
    id or ``apps.<appId>``) on ``app``, for ``scope_id`` ("" when the rule
    judges the whole app). At most one row per (rule_id, app, scope_id): it
    lives through the lifecycle

    - "open": found by the latest evaluation;
    - "accepted": a Super Admin accepted the risk (``accepted_by``,
      ``accepted_reason``) until ``accepted_until``; back to open when that
      passes and the org still does not comply;
    - "resolved": the org complies (set by the evaluation, ``resolved_at``);
      reopened (``reopened`` counts) when it drifts again.

    ``risk`` is the catalog's word ("low" ... "critical"); ``message`` plain
    words; ``remedy`` "grant", "revoke" or "" (no plan step fixes it).
    Times are aware UTC."""

    class State(models.TextChoices):
        OPEN = "open", "open"
        ACCEPTED = "accepted", "accepted"
        RESOLVED = "resolved", "resolved"

    rule_id = models.CharField(max_length=200)
    rule_kind = models.CharField(max_length=32)
    app = models.ForeignKey(
        OktaApp, on_delete=models.CASCADE, related_name="policy_findings"
    )
    scope_id = models.CharField(max_length=200, blank=True)
    risk = models.CharField(max_length=16, blank=True)
    message = models.TextField()
    remedy = models.CharField(max_length=8, blank=True)
    auto_remediate = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices)
    first_seen_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened = models.PositiveIntegerField(default=0)
    accepted_by = models.CharField(max_length=300, blank=True)
    accepted_reason = models.TextField(blank=True)
    accepted_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["state", "rule_id", "app_id", "scope_id"]
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["rule_id", "app", "scope_id"],
                name="governance_finding_unique",
            ),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["state", "rule_id"], name="governance_finding_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on {self.app_id} {self.scope_id} ({self.state})"
