"""Audit trail verification: run it, store the result, raise the alarm on a break.

:func:`verify_audit_trail` checks the chain (``audit.verify``) against the
checkpoints in the database and the off-database copy
(``settings.AUDIT_CHECKPOINT_FILE``), stores an :class:`AuditVerification`, and
on failure logs at ERROR (logger ``grantsconsole.audit``), raises an
``audit_verification_failed`` alert and e-mails ``settings.ALERT_EMAILS``
through Django's mail backend. The worker runs a whole
check daily; :func:`checkpoint_verified` checks the tail before each checkpoint
and signs exactly the head it verified, never a trail that fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from grantsconsole.grants import audit, signals
from grantsconsole.grants.models import AuditCheckpoint, AuditVerification

logger = logging.getLogger("grantsconsole.audit")

Scope = AuditVerification.Scope
Status = AuditVerification.Status


def checkpoint_file_lines() -> list[str]:
    """The lines of ``settings.AUDIT_CHECKPOINT_FILE`` ([] when it is not set or
    not written yet). Raises OSError when it exists but cannot be read."""
    path = settings.AUDIT_CHECKPOINT_FILE
    if not path:
        return []
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()


def request_verification(requested_by: str) -> AuditVerification:
    """Record a press of "Verify now" by ``requested_by`` (an Okta login): a
    queued whole-chain check that :func:`verify_audit_trail` runs later."""
    return AuditVerification.objects.create(
        trigger="console",
        requested_by=requested_by,
        requested_at=timezone.now(),
    )


def verify_audit_trail(
    *,
    trigger: str = "beat",
    scope: str = Scope.FULL,
    queued_id: int | None = None,
    external: Iterable[str] = (),
) -> AuditVerification:
    """Check the audit trail and store the result; returns the stored row.

    ``scope`` "full" checks every row, "tail" the rows after the newest
    checkpoint (see ``audit.verify``). Off-database checkpoints: the lines of
    ``AUDIT_CHECKPOINT_FILE`` plus ``external`` (e.g. a log drain export).
    ``queued_id`` runs the check a press of "Verify now" queued; when that row
    was already run (a redelivered task) it is returned unchanged. A failure
    is logged at ERROR, alerted and e-mailed to ``ALERT_EMAILS``.
    """
    if queued_id is not None:
        row = AuditVerification.objects.get(pk=queued_id)
        if row.status != Status.QUEUED:
            return row
    else:
        row = AuditVerification(
            trigger=trigger, scope=scope, requested_at=timezone.now()
        )
    _check(row, external)
    return row


def _check(row: AuditVerification, external: Iterable[str]) -> audit.VerifyResult:
    """Run the check ``row`` describes, store its outcome in ``row``, alert on
    failure; returns ``audit.verify``'s result."""
    row.started_at = timezone.now()
    started = time.monotonic()
    try:
        lines = checkpoint_file_lines() + list(external)
    except OSError as exc:
        result = audit.VerifyResult(
            0,
            0,
            audit.Problem(
                "external",
                0,
                "unreadable",
                f"the checkpoint file {settings.AUDIT_CHECKPOINT_FILE} "
                f"cannot be read: {exc.strerror}",
            ),
        )
    else:
        result = audit.verify(external=lines, tail=row.scope == Scope.TAIL)
    row.duration_ms = round((time.monotonic() - started) * 1000)
    row.status = Status.OK if result.ok else Status.FAILED
    row.rows = result.rows
    row.first_seq = result.first_seq
    row.checkpoints = result.checkpoints
    row.ignored_lines = result.ignored
    if result.problem is not None:
        row.problem_where = result.problem.where
        row.problem_ident = result.problem.ident
        row.problem_kind = result.problem.kind
        row.problem = str(result.problem)
    row.save()
    if not result.ok:
        _alert(row)
    return result


def _alert(row: AuditVerification) -> None:
    """ERROR log line, an ``audit_verification_failed`` alert (critical, once
    per break) to the alert destinations, and an e-mail to ALERT_EMAILS for a
    failed check."""
    logger.error(
        "audit verification #%s FAILED (%s, %s): %s",
        row.pk,
        row.scope,
        row.trigger,
        row.problem,
    )
    signals.verification_failed.send(sender=None, verification=row)
    recipients = list(settings.ALERT_EMAILS)
    if not recipients:
        return
    body = (
        f"The audit trail failed verification at {row.started_at:%Y-%m-%d %H:%M:%S} UTC.\n\n"
        f"First break: {row.problem}\n"
        f"Kind: {audit.BREAKS.get(row.problem_kind, row.problem_kind)}\n"
        f"Check: {row.scope}, triggered by {row.requested_by or row.trigger}; "
        f"{row.rows} rows and {row.checkpoints} checkpoints checked.\n\n"
        "No checkpoint is signed while the trail fails verification. Compare the "
        "database with a backup and the off-database checkpoint copies, then run "
        "`python manage.py verify_audit`."
    )
    try:
        send_mail(
            "grantsconsole: the audit trail FAILED verification",
            body,
            None,
            recipients,
        )
    except Exception:  # the stored result and the ERROR line remain
        logger.exception("could not e-mail the audit verification alert")


def checkpoint_verified(trigger: str) -> AuditCheckpoint | None:
    """Sign a checkpoint of the head that a tail check just verified.

    The check is stored (scope "tail", ``trigger``). Returns None and signs
    nothing when it fails, or when the last whole-chain check failed (a break
    is not healed by later rows). The checkpoint signs the verified head, not
    rows appended meanwhile (the next check covers those).
    """
    last_full = (
        AuditVerification.objects.filter(scope=Scope.FULL)
        .exclude(status=Status.QUEUED)
        .order_by("-id")
        .values_list("status", flat=True)
        .first()
    )
    row = AuditVerification(
        trigger=trigger, scope=Scope.TAIL, requested_at=timezone.now()
    )
    result = _check(row, ())
    if not result.ok or last_full == Status.FAILED:
        logger.error(
            "audit checkpoint not signed: the trail fails verification (%s)",
            row.problem or "the last whole-chain check failed",
        )
        return None
    return audit.checkpoint(count=result.head_seq, head=result.head)
