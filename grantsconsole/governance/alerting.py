"""The one entry point for raising an alert: every part of governance (and the
syncs) calls :func:`raise_alert`; delivery (e-mail, webhooks, retries, the
delivery log) lives behind it."""

from __future__ import annotations

from typing import Any

KINDS = (
    "out_of_band_change",  # a grant or revoke made outside the console
    "policy_violation",
    "grant_expiring",  # a grant's end time is near (or passed with no enforcer)
    "audit_verification_failed",
    "worker_unhealthy",
    "owner_orphaned",  # an app owner's Okta user was deactivated
)


def raise_alert(
    kind: str,
    *,
    risk: str,
    title: str,
    details: dict[str, Any],
    app: Any = None,
    scope_id: str = "",
) -> None:
    """Raise an alert of ``kind`` (one of KINDS) at ``risk`` ("low" ...
    "critical", the scope catalog's words): ``title`` is one line in plain
    words, ``details`` JSON-serialisable facts (actor, source IP, ...).

    Not yet delivered anywhere: the alert delivery part replaces this body.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
