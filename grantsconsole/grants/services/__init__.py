"""Services: the only code that writes grant state (Django-Styleguide "services").

Console writes: :func:`write_scopes` (grant and revoke, in
:mod:`~grantsconsole.grants.services.scope_writes`), :func:`refresh_app`.
Syncs: :func:`run_full_sync` (inline) or :func:`start_full_sync` +
:func:`full_sync_step` (Celery), :func:`run_incremental_sync`,
:func:`queue_sync` ("Sync now": a run recorded before the worker starts it),
:func:`settle_abandoned_intents` (console writes whose request died).
Reports: :func:`create_report`, :func:`report_as_csv`, :func:`report_as_json`.
Finishing a revoke (an app's refresh tokens, the residual-window check):
:mod:`~grantsconsole.grants.services.app_tokens`.
People (names for Okta user ids): :mod:`~grantsconsole.grants.services.people`,
:func:`refresh_people`.
Audit verification: :func:`verify_audit_trail`, :func:`request_verification`,
:func:`checkpoint_verified`.
Audit rows: :mod:`grantsconsole.grants.audit`; the intent protocol of console
writes: :mod:`grantsconsole.grants.intents`. Applying what Okta says about one
app: :mod:`~grantsconsole.grants.services.snapshots` (database only) and
:mod:`~grantsconsole.grants.services.app_sync` (reads Okta, then applies).
"""

from grantsconsole.grants.services.app_sync import (
    RefreshResult,
    refresh_app,
    settle_abandoned_intents,
)
from grantsconsole.grants.services.full_sync import (
    end_run_early,
    fail_run,
    full_sync_step,
    run_full_sync,
    stalled_runs,
    start_full_sync,
    transient_wait,
)
from grantsconsole.grants.services.incremental_sync import run_incremental_sync
from grantsconsole.grants.services.people import refresh_people
from grantsconsole.grants.services.reports import (
    build_report,
    create_report,
    report_as_csv,
    report_as_json,
)
from grantsconsole.grants.services.scope_writes import ScopeResult, write_scopes
from grantsconsole.grants.services.sync_queue import (
    end_queued,
    expire_queued,
    queue_sync,
)
from grantsconsole.grants.services.verification import (
    checkpoint_verified,
    request_verification,
    verify_audit_trail,
)

__all__ = [
    "RefreshResult",
    "ScopeResult",
    "build_report",
    "checkpoint_verified",
    "create_report",
    "end_queued",
    "end_run_early",
    "expire_queued",
    "fail_run",
    "full_sync_step",
    "queue_sync",
    "refresh_app",
    "refresh_people",
    "report_as_csv",
    "report_as_json",
    "request_verification",
    "run_full_sync",
    "run_incremental_sync",
    "settle_abandoned_intents",
    "stalled_runs",
    "start_full_sync",
    "transient_wait",
    "verify_audit_trail",
    "write_scopes",
]
