"""What governance does when the grants app signals a change (connected in
``GovernanceConfig.ready``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from grantsconsole.governance import alerting, owners
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, AuditVerification, OktaApp


def grants_changed(
    sender: Any, *, app: OktaApp, baseline: bool = False, **kwargs: Any
) -> None:
    """An app's grants changed: its default owner may have too. At the
    baseline the owner is recorded without an audit row of its own: the
    baseline's ``app_discovered`` row already names the app's grants."""
    owners.refresh_owner(app, audited=not baseline)


def user_deactivated(
    sender: Any,
    *,
    okta_user_id: str,
    login: str,
    at: datetime,
    event_uuid: str,
    **kwargs: Any,
) -> None:
    """An Okta user was deactivated: the apps they own are orphaned."""
    owners.orphan(okta_user_id, login, at=at, event_uuid=event_uuid)


def external_change(
    sender: Any, *, event: AuditEvent, actor: Actor, **kwargs: Any
) -> None:
    """A grant or revoke made outside the console: the out-of-band alert."""
    alerting.out_of_band_change(event, actor)


def verification_failed(
    sender: Any, *, verification: AuditVerification, **kwargs: Any
) -> None:
    """The audit trail failed verification: one critical alert per break
    (every later check finds the same break, so it is keyed by it)."""
    row = verification
    alerting.raise_alert(
        "audit_verification_failed",
        risk="critical",
        title=f"The audit trail failed verification: {row.problem}",
        details={
            "problem": row.problem,
            "kind": audit.BREAKS.get(row.problem_kind, row.problem_kind),
            "check": row.scope,
            "triggered_by": row.requested_by or row.trigger,
            "rows_checked": row.rows,
            "checkpoints_checked": row.checkpoints,
        },
        key=(
            f"audit_verification:{row.problem_where}:{row.problem_ident}:"
            f"{row.problem_kind}"
        ),
    )
