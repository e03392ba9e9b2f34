"""Reading one app from Okta and applying it: every sync path, "refresh this
app", and settling console intents whose request died."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from django.utils import timezone

from grantsconsole.grants import audit
from grantsconsole.grants.audit import NOBODY, Actor
from grantsconsole.grants.intents import (
    INTENT_ACTIONS,
    INTENT_HORIZON,
    INTENT_IN_FLIGHT,
    final_key,
    reconcile_pending_intents,
    unfinished,
)
from grantsconsole.grants.models import AuditEvent, OktaApp
from grantsconsole.grants.services import app_tokens, controls, privilege_sync
from grantsconsole.grants.services.snapshots import (
    AppChange,
    apply_snapshot,
    local_version,
    mark_removed,
    mark_unreadable,
)
from grantsconsole.grants.signals import grant_state_changed
from grantsconsole.okta import (
    App,
    Grant,
    OktaClient,
    OktaConnectionError,
    OktaError,
    OktaInsufficientScope,
    OktaNotFound,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaUnauthorized,
)
from grantsconsole.okta.errors import describe

logger = logging.getLogger(__name__)

# Errors that say "try again later", not "this app is broken": the caller
# retries the whole step with backoff instead of marking the app unknown.
TRANSIENT_ERRORS: tuple[type[OktaError], ...] = (
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaConnectionError,
)
# Errors about our credentials: every further call would fail the same way, so
# the sync fails instead of marking apps one by one.
CREDENTIAL_ERRORS: tuple[type[OktaError], ...] = (
    OktaUnauthorized,
    OktaInsufficientScope,
)

APPLY_ATTEMPTS = 3


# A 404 on the grants of an app Okta still has is not "the app does not exist".
GRANTS_NOT_READABLE = (
    "Grants not readable (404): Okta answered 404 for this app's grants although "
    "the app itself exists. Its last known grants are kept; they are read again "
    "at the next sync."
)


def app_is_gone(client: OktaClient, okta_id: str) -> bool:
    """True when ``GET /api/v1/apps/{appId}`` answers 404 (raises transient and
    credential errors; any other answer means "not proven gone")."""
    try:
        client.get_app(okta_id)
    except OktaNotFound:
        return True
    except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS):
        raise
    except OktaError:
        return False
    return False


@dataclass(slots=True)
class AppSyncOutcome:
    """The result of reading one app: what changed, or the error that left its
    state unknown (``error``, and ``message``: what the app page and the sync
    run show), or ``conflict`` when concurrent local writes kept moving its
    version."""

    change: AppChange
    error: OktaError | None = None
    conflict: bool = False
    message: str = ""  # ``error`` in plain words, as stored on the app
    okta_app: App | None = None  # Okta's app object, when it was read

    def __post_init__(self) -> None:
        if self.error is not None and not self.message:
            self.message = describe(self.error)


def _as_stored(grants: list[Grant], stored: Mapping[str, str]) -> bool:
    """True when Okta's ``grants`` are the stored open grants (same scopes;
    same Okta grant ids where one is stored), as ``apply_snapshot`` compares."""
    return len(grants) == len(stored) and all(
        g.scope_id in stored and stored[g.scope_id] in ("", g.id) for g in grants
    )


def sync_one_app(
    client: OktaClient,
    okta_id: str,
    *,
    source: str,
    listing: App | None = None,
    attribution: Mapping[tuple[str, str], Actor] | None = None,
    app_actor: Actor = NOBODY,
    run_id: int | None = None,
    baseline: bool = False,
    known_version: int | None = None,
    stored_grants: Mapping[str, str] | None = None,
) -> AppSyncOutcome:
    """Read the app (unless ``listing`` already has it) and its grants from Okta
    and apply them.

    Okta: ``GET /api/v1/apps/{appId}`` (only without ``listing``) and
    ``GET /api/v1/apps/{appId}/grants``. A 404 for the app itself marks it
    removed; a 404 for its grants while the app exists, and any other
    non-transient error, mark its grants "unknown" and leave its local grants
    as they were. ``run_id`` and ``baseline``: the caller is that full sync, or
    the baseline one (see ``apply_snapshot``). ``known_version``: the app's
    ``version`` as the caller just read it from the database (saves a query;
    None: read here). ``stored_grants``: the app's open grants as the caller
    just read them (scope id -> Okta grant id, "" if unknown), given only for
    an app stored as ``listing`` says with grants state "ok"; when Okta's
    grants are those, nothing is queried or written (apply_snapshot would
    change nothing). Raises the TRANSIENT_ERRORS and
    CREDENTIAL_ERRORS for the caller to handle (nothing was written then).
    """
    for attempt in range(APPLY_ATTEMPTS):
        if attempt == 0 and known_version is not None:
            version: int | None = known_version
        else:
            version = local_version(okta_id)
        try:
            app = listing if listing is not None else client.get_app(okta_id)
        except OktaNotFound:
            return AppSyncOutcome(mark_removed(okta_id, source=source, actor=app_actor))
        except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS):
            raise
        except OktaError as exc:
            mark_unreadable(okta_id, describe(exc))
            return AppSyncOutcome(AppChange(), error=exc)
        try:
            grants = client.list_grants(okta_id)
        except OktaNotFound as exc:
            # Listed a moment ago, gone now? Ask for the app itself: only its
            # own 404 proves it was deleted (then it is removed, not unknown).
            if listing is not None and app_is_gone(client, okta_id):
                return AppSyncOutcome(
                    mark_removed(okta_id, source=source, actor=app_actor)
                )
            message = describe(exc, GRANTS_NOT_READABLE)
            logger.warning("grants of app %s: %s", okta_id, message)
            row = mark_unreadable(okta_id, message, app=app)
            return AppSyncOutcome(
                AppChange(app=row), error=exc, message=message, okta_app=app
            )
        except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS):
            raise
        except OktaError as exc:
            logger.warning(
                "grants of app %s could not be read: %s", okta_id, describe(exc)
            )
            row = mark_unreadable(okta_id, describe(exc), app=app)
            return AppSyncOutcome(AppChange(app=row), error=exc, okta_app=app)
        if (
            attempt == 0
            and stored_grants is not None
            and _as_stored(grants, stored_grants)
        ):
            return AppSyncOutcome(AppChange(), okta_app=app)
        change = apply_snapshot(
            app,
            grants,
            expected_version=version,
            source=source,
            attribution=attribution,
            app_actor=app_actor,
            run_id=run_id,
            baseline=baseline,
        )
        if change.applied:
            return AppSyncOutcome(change, okta_app=app)
    # Local writers kept changing the app while we read it; the next sync
    # will look again.
    return AppSyncOutcome(AppChange(applied=False), conflict=True)


def settle_abandoned_intents(client: OktaClient, *, limit: int = 20) -> int:
    """Settle console intents whose request must have died (older than
    INTENT_IN_FLIGHT, no final row): read each such app again from Okta (at
    most ``limit`` apps; ``GET /api/v1/apps/{appId}`` and ``/grants``), which
    records the intents Okta carried out as their admin's success, then close
    the rest as failures. One query when there is nothing to settle. Transient
    and credential errors are logged and left for the next call. Returns how
    many intents got their final row.
    """
    now = timezone.now()
    pending = unfinished(
        AuditEvent.objects.filter(
            action__in=INTENT_ACTIONS,
            created_at__lt=now - INTENT_IN_FLIGHT,
            created_at__gte=now - INTENT_HORIZON,
            app__isnull=False,
        )
        .select_related("app")
        .order_by("-seq")[:500]
    )
    apps = {i.app_id: i.app.okta_id for i in pending}
    if not apps:
        return 0
    read = []
    for pk, okta_id in list(apps.items())[:limit]:
        try:
            outcome = sync_one_app(client, okta_id, source="intent_check")
        except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS) as exc:
            logger.warning(
                "could not settle intents of app %s: %s", okta_id, describe(exc)
            )
            continue
        if outcome.error is None and not outcome.conflict:
            read.append(pk)
    settled_as_done = AuditEvent.objects.filter(
        event_key__in=[final_key(i.seq) for i in pending if i.app_id in read]
    ).count()
    closed = reconcile_pending_intents(
        source="intent_check", read_since=timezone.now(), app_ids=read
    )
    return settled_as_done + closed


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """Outcome of :func:`refresh_app`: ``change`` (what differed from Okta and was
    recorded as external changes), ``error`` (an Okta error, plain words) or "",
    and ``not_read``: the app page's other sections whose read failed this time
    (``{"admin roles" | "credentials" | "refresh tokens": reason}``; each keeps
    its last known figures and shows the reason)."""

    change: AppChange
    error: str = ""
    not_read: dict[str, str] = field(default_factory=dict)


def refresh_app(
    *, client: OktaClient, app: OktaApp, actor: Actor = NOBODY
) -> RefreshResult:
    """Re-read from Okta now everything the app page shows, and apply it: the
    app and its grants (``GET /api/v1/apps/{appId}`` and ``/grants``), then,
    unless the app is gone, its auth method and network restriction (from that
    app object), its admin roles (service apps: ``privilege_sync``), its
    secrets or keys (where they matter: ``controls.read_credentials``) and its
    live refresh tokens (``app_tokens.read_refresh_tokens``).

    Grant differences are recorded as ``external_grant``/``external_revoke``
    rows, a role change as ``privilege_change`` (the admin who pressed refresh
    did not make them); an app Okta no longer has is marked removed; an error
    on the grants leaves the local grants as they were and marks the app's
    grants "unknown". A section whose read fails keeps its last known figures
    and stores the reason (``not_read``); the others are still read. Then a
    ``refresh`` audit row names the admin (``actor``) with what was found:
    ``detail = {"added": [...], "revoked": [...], "removed": bool, "error":
    str, "not_read": {section: reason}}``, outcome success or failure (of the
    grants read). Never raises OktaError: the error text is returned.
    """
    listed: App | None = None
    try:
        outcome = sync_one_app(client, app.okta_id, source="refresh")
    except OktaError as exc:
        result = RefreshResult(AppChange(app=app), error=describe(exc))
    else:
        listed = outcome.okta_app
        if outcome.error is not None:
            result = RefreshResult(outcome.change, error=outcome.message)
        elif outcome.conflict:
            result = RefreshResult(
                outcome.change,
                error="The app changed locally while it was read; try again.",
            )
        else:
            result = RefreshResult(outcome.change)
    if not result.change.removed:
        result = replace(result, not_read=_read_sections(client, app.pk, listed))
    audit.record(
        "refresh",
        **actor.fields,
        app=app,
        outcome="failure" if result.error else "success",
        detail={
            "added": list(result.change.added),
            "revoked": list(result.change.revoked),
            "removed": result.change.removed,
            "error": result.error,
            "not_read": result.not_read,
        },
    )
    grant_state_changed.send(sender=OktaApp, app_ids=[app.pk])
    return result


def _read_sections(client: OktaClient, app_pk: int, listed: App | None) -> dict:
    """Read and store the app's controls, admin roles, credentials and refresh
    tokens (see :func:`refresh_app`); returns ``{section: reason}`` for the
    reads that failed. An interactive refresh does not wait out a rate limit:
    it is a failed read like any other."""
    if listed is not None:
        controls.record_listed([listed])
    row = OktaApp.objects.get(pk=app_pk)  # its grant counters as just applied
    failed: dict[str, str] = {}
    if privilege_sync.reads_roles(row):
        try:
            read = privilege_sync.read_roles(client, row.client_id)
        except OktaError as exc:
            read = privilege_sync.RolesRead(None, describe(exc))
        privilege_sync.apply_roles(row, read, source="refresh")
        if read.error:
            failed["admin roles"] = read.error
    error = controls.read_credentials(client, app_pk, wait=False)
    if error:
        failed["credentials"] = error
    tokens = app_tokens.read_refresh_tokens(client, row)
    if tokens.error_at is not None:
        failed["refresh tokens"] = tokens.error
    return failed
