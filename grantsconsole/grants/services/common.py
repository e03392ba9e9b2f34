"""Reading one app from Okta and applying it, shared by every sync path."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services.apply import (
    NOBODY,
    Actor,
    AppChange,
    apply_snapshot,
    local_version,
    mark_removed,
    mark_unreadable,
)
from grantsconsole.okta import (
    App,
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


def describe(error: OktaError) -> str:
    """A one-line, secret-free description of an Okta error for the UI and logs."""
    bits = [error.explanation]
    facts = []
    if error.status is not None:
        facts.append(f"HTTP {error.status}")
    if error.error_code:
        facts.append(f"errorCode {error.error_code}")
    if error.request_id:
        facts.append(f"request {error.request_id}")
    if facts:
        bits.append(f"({', '.join(facts)})")
    return " ".join(bits)


def _app_is_gone(client: OktaClient, okta_id: str) -> bool:
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
    state unknown (``error``), or ``conflict`` when concurrent local writes kept
    moving its version."""

    change: AppChange
    error: OktaError | None = None
    conflict: bool = False


def sync_one_app(
    client: OktaClient,
    okta_id: str,
    *,
    source: str,
    listing: App | None = None,
    attribution: Mapping[tuple[str, str], Actor] | None = None,
    app_actor: Actor = NOBODY,
    run_id: int | None = None,
) -> AppSyncOutcome:
    """Read the app (unless ``listing`` already has it) and its grants from Okta
    and apply them.

    Okta: ``GET /api/v1/apps/{appId}`` (only without ``listing``) and
    ``GET /api/v1/apps/{appId}/grants``. A 404 for the app itself marks it
    removed; any other non-transient error marks its grants "unknown" and
    leaves its local grants as they were. Raises the TRANSIENT_ERRORS and
    CREDENTIAL_ERRORS for the caller to handle (nothing was written then).
    """
    for _ in range(APPLY_ATTEMPTS):
        version = local_version(okta_id)
        try:
            app = listing if listing is not None else client.get_app(okta_id)
        except OktaNotFound:
            return AppSyncOutcome(
                mark_removed(okta_id, source=source, actor=app_actor, run_id=run_id)
            )
        except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS):
            raise
        except OktaError as exc:
            mark_unreadable(okta_id, describe(exc), run_id=run_id)
            return AppSyncOutcome(AppChange(), error=exc)
        try:
            grants = client.list_grants(okta_id)
        except OktaNotFound as exc:
            # Listed a moment ago, gone now? Ask for the app itself: only its
            # own 404 proves it was deleted (then it is removed, not unknown).
            if listing is not None and _app_is_gone(client, okta_id):
                return AppSyncOutcome(
                    mark_removed(okta_id, source=source, actor=app_actor, run_id=run_id)
                )
            row = mark_unreadable(okta_id, describe(exc), app=app, run_id=run_id)
            return AppSyncOutcome(AppChange(app=row), error=exc)
        except (*TRANSIENT_ERRORS, *CREDENTIAL_ERRORS):
            raise
        except OktaError as exc:
            logger.warning(
                "grants of app %s could not be read: %s", okta_id, describe(exc)
            )
            row = mark_unreadable(okta_id, describe(exc), app=app, run_id=run_id)
            return AppSyncOutcome(AppChange(app=row), error=exc)
        change = apply_snapshot(
            app,
            grants,
            expected_version=version,
            source=source,
            attribution=attribution,
            app_actor=app_actor,
            run_id=run_id,
        )
        if change.applied:
            return AppSyncOutcome(change)
    # Local writers kept changing the app while we read it; the next sync
    # will look again. Mark it as handled by this run so the run can finish.
    if run_id is not None:
        OktaApp.objects.filter(okta_id=okta_id).update(synced_run_id=run_id)
    return AppSyncOutcome(AppChange(applied=False), conflict=True)
