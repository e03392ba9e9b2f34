"""Grant and revoke Okta API scopes from the console, and "refresh this app".

Flow per scope (reliability-and-performance.md A.2 point 1): an intent row
(``grant_intent`` / ``revoke_intent``, outcome "pending") is committed before
the Okta call; the Okta call is made with the signed-in admin's own client; a
final row (``grant`` / ``revoke``) records the outcome and Okta's request id. The
local grant row changes only when Okta said yes. A scope already granted, or a
grant already gone, is success (``changed=False``). Every intent gets at most one
final row (``event_key`` ``intent-final:<seq>``), whether the console, a retry or a
sync writes it; a retry after a request died mid-call reads the grants back first
and settles the dead request's intent instead of writing to Okta again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from grantsconsole.grants import audit
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.grants.services.apply import AppChange, final_key, open_intents
from grantsconsole.grants.services.common import describe, sync_one_app
from grantsconsole.okta import (
    Grant,
    GrantResult,
    OktaClient,
    OktaConnectionError,
    OktaError,
    OktaInsufficientScope,
    OktaPermissionDenied,
    OktaServerError,
    OktaTimeout,
    OktaUnauthorized,
    RevokeResult,
)

logger = logging.getLogger(__name__)

_OUTAGE_ERRORS = (OktaConnectionError, OktaServerError, OktaTimeout)
# After one of these, the next scope would fail the same way: stop the batch.
_STOP_ERRORS = (OktaUnauthorized, OktaPermissionDenied, OktaInsufficientScope)


@dataclass(frozen=True, slots=True)
class ScopeResult:
    """The outcome for one scope of a grant or revoke request.

    ``ok``: Okta did it (or it was already so). ``changed``: False when the app
    already held the scope / the grant was already gone. ``attempted``: False
    when the scope was not tried because an earlier one failed for a reason
    that applies to all (401/403). ``message``: plain words for the UI.
    ``okta_request_id``: ``X-Okta-Request-Id`` of the deciding response.
    ``error_code``/``status``: Okta's errorCode and HTTP status on failure.
    ``audit_seq``: seq of the final audit row (None if not attempted).
    """

    scope_id: str
    ok: bool
    changed: bool
    message: str
    okta_request_id: str = ""
    error_code: str = ""
    status: int | None = None
    attempted: bool = True
    audit_seq: int | None = None


def _unique(scope_ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for scope_id in scope_ids:
        scope_id = scope_id.strip()
        if scope_id:
            seen.setdefault(scope_id, None)
    return list(seen)


def _failure_detail(intent_seq: int, exc: OktaError) -> dict[str, object]:
    return {
        "intent_seq": intent_seq,
        "status": exc.status,
        "error_code": exc.error_code,
        "error_summary": exc.error_summary,
        "explanation": exc.explanation,
        "error": type(exc).__name__,
        # Okta down, not a refusal: the console shows a "stale since" banner.
        "outage": isinstance(exc, _OUTAGE_ERRORS),
    }


def _not_attempted(scope_ids: list[str], reason: str) -> list[ScopeResult]:
    return [
        ScopeResult(s, ok=False, changed=False, message=reason, attempted=False)
        for s in scope_ids
    ]


def _lock_app(app: OktaApp) -> None:
    """Take the app row's lock first, in the order the sync takes it (app, then its
    grants): taking the grants first deadlocked with a running sync on PostgreSQL."""
    if connection.features.has_select_for_update:
        list(OktaApp.objects.select_for_update().filter(pk=app.pk).values_list("pk"))


def _bump(app: OktaApp, now) -> None:
    OktaApp.objects.filter(pk=app.pk).update(
        version=F("version") + 1, last_change_at=now
    )


def _corrected(
    final: audit.AuditEvent,
    verb: str,
    app: OktaApp,
    scope_id: str,
    actor_id: str,
    actor_login: str,
) -> audit.AuditEvent:
    """The intent's final row is the one just written, or one written first by
    a retry or a sync. If that one said "failure" (the request outlived the
    in-flight bound and was closed as failed) while Okta did the change, append
    a correcting success row that names it; rows are never edited."""
    if final.outcome == "success":
        return final
    return audit.record(
        verb,
        actor_id=actor_id,
        actor_login=actor_login,
        app=app,
        scope_id=scope_id,
        outcome="success",
        detail={
            "intent_seq": final.detail.get("intent_seq"),
            "corrects_seq": final.seq,
        },
        key=f"intent-correction:{final.seq}",
    )


def _record_granted(
    app: OktaApp,
    result: GrantResult,
    actor_id: str,
    actor_login: str,
    intent_seq: int,
    extra: dict[str, object] | None = None,
) -> audit.AuditEvent:
    grant = result.grant
    now = timezone.now()
    with transaction.atomic():
        _lock_app(app)
        row = ScopeGrant.objects.filter(
            app=app, scope_id=grant.scope_id, revoked_at__isnull=True
        ).first()
        if row is not None and row.okta_grant_id and row.okta_grant_id != grant.id:
            # Okta holds a different grant than we knew: the old one is gone.
            row.revoked_at = now
            row.revoked_by = "(replaced in Okta)"
            row.save(update_fields=["revoked_at", "revoked_by"])
            row = None
        # Okta already held a grant we had not seen, made by someone else (its
        # createdBy, the System Log actor of the consent): that grant is an
        # out-of-band change with its own row, not this admin's doing.
        made_elsewhere = (
            row is None
            and result.already_present
            and bool(grant.created_by_id)
            and grant.created_by_id != actor_id
        )
        if row is None:
            maker_login = _known_login(grant.created_by_id) if made_elsewhere else ""
            ScopeGrant.objects.create(
                app=app,
                scope_id=grant.scope_id,
                okta_grant_id=grant.id,
                issuer=grant.issuer,
                source=grant.source,
                created_by_id=grant.created_by_id,
                created_by_type=grant.created_by_type,
                created=grant.created,
                first_seen_at=now,
                last_seen_at=now,
                granted_by=(
                    (maker_login or grant.created_by_id)
                    if made_elsewhere
                    else actor_login or actor_id
                )[:300],
            )
            if made_elsewhere:
                audit.record(
                    "external_grant",
                    actor_id=grant.created_by_id,
                    actor_login=maker_login,
                    app=app,
                    scope_id=grant.scope_id,
                    detail={
                        "detected_by": "console_grant",
                        "actor_source": "okta_created_by",
                        "okta_grant_id": grant.id,
                        "created": grant.created.isoformat() if grant.created else "",
                        "found_by_intent_seq": intent_seq,
                    },
                    key=f"external_grant:{grant.id}",
                )
        else:
            row.okta_grant_id = grant.id
            row.last_seen_at = now
            row.save(update_fields=["okta_grant_id", "last_seen_at"])
        _bump(app, now)
        final = audit.record(
            "grant",
            actor_id=actor_id,
            actor_login=actor_login,
            app=app,
            scope_id=grant.scope_id,
            outcome="success",
            okta_request_id=result.request_id,
            detail={
                "intent_seq": intent_seq,
                "okta_grant_id": grant.id,
                "already_present": result.already_present,
                "recovered": result.recovered,
                **({"made_by": grant.created_by_id} if made_elsewhere else {}),
                **(extra or {}),
            },
            key=final_key(intent_seq),
        )
        return _corrected(final, "grant", app, grant.scope_id, actor_id, actor_login)


def _known_login(okta_user_id: str) -> str:
    """The Okta login last recorded in the audit for ``okta_user_id`` ("" when the
    console never saw it: a sign-in or a System Log event would have named it)."""
    return (
        audit.AuditEvent.objects.filter(actor_id=okta_user_id)
        .exclude(actor_login="")
        .order_by("-seq")
        .values_list("actor_login", flat=True)
        .first()
        or ""
    )


def _record_revoked(
    app: OktaApp,
    scope_id: str,
    result: RevokeResult,
    actor_id: str,
    actor_login: str,
    intent_seq: int,
    extra: dict[str, object] | None = None,
) -> audit.AuditEvent:
    now = timezone.now()
    with transaction.atomic():
        _lock_app(app)
        closed = 0
        for row in ScopeGrant.objects.filter(
            app=app, scope_id=scope_id, revoked_at__isnull=True
        ):
            row.revoked_at = now
            row.revoked_by = actor_login or actor_id
            row.save(update_fields=["revoked_at", "revoked_by"])
            closed += 1
        _bump(app, now)
        final = audit.record(
            "revoke",
            actor_id=actor_id,
            actor_login=actor_login,
            app=app,
            scope_id=scope_id,
            outcome="success",
            okta_request_id=result.request_id,
            detail={
                "intent_seq": intent_seq,
                "okta_grant_id": result.grant_id,
                "already_gone": result.already_gone,
                "local_rows_closed": closed,
                **(extra or {}),
            },
            key=final_key(intent_seq),
        )
        return _corrected(final, "revoke", app, scope_id, actor_id, actor_login)


def _write_each(
    *,
    verb: str,
    app: OktaApp,
    scope_ids: Iterable[str],
    actor_id: str,
    actor_login: str,
    call: Callable[[str], Any],
    finish: Callable[[str, Any, int], ScopeResult],
    read_back: Callable[[], list[Grant]],
    settle: Callable[[str, audit.AuditEvent, list[Grant]], ScopeResult | None],
) -> list[ScopeResult]:
    """The loop shared by grant and revoke: per scope an intent row, the Okta
    ``call``, then ``finish`` (local state and the final audit row) or a failure
    row; after a 401/403 the remaining scopes are not attempted.

    A scope with an earlier intent of the same verb still open (its request
    died after Okta may have acted) is first read back (``read_back``, once
    per batch): when Okta shows the change done, ``settle`` records the earlier
    intent's outcome and nothing is sent to Okta again."""
    scopes = _unique(scope_ids)
    earlier = open_intents(app.pk, timezone.now())
    okta_grants: list[Grant] | None = None
    results: list[ScopeResult] = []
    for index, scope_id in enumerate(scopes):
        unfinished = earlier.get((scope_id, verb))
        if unfinished is not None and okta_grants is None:
            try:
                okta_grants = read_back()
            except OktaError as exc:
                logger.info("read-back before a retry failed: %s", describe(exc))
                earlier = {}  # cannot tell: send the writes as usual
        if unfinished is not None and okta_grants is not None:
            settled = settle(scope_id, unfinished, okta_grants)
            if settled is not None:
                results.append(settled)
                continue
        intent = audit.record(
            f"{verb}_intent",
            actor_id=actor_id,
            actor_login=actor_login,
            app=app,
            scope_id=scope_id,
            outcome="pending",
        )
        try:
            result = call(scope_id)
        except OktaError as exc:
            final = audit.record(
                verb,
                actor_id=actor_id,
                actor_login=actor_login,
                app=app,
                scope_id=scope_id,
                outcome="failure",
                okta_request_id=exc.request_id,
                detail=_failure_detail(intent.seq, exc),
                key=final_key(intent.seq),
            )
            results.append(
                ScopeResult(
                    scope_id,
                    ok=False,
                    changed=False,
                    message=exc.explanation,
                    okta_request_id=exc.request_id,
                    error_code=exc.error_code,
                    status=exc.status,
                    audit_seq=final.seq,
                )
            )
            if isinstance(exc, _STOP_ERRORS):
                results += _not_attempted(
                    scopes[index + 1 :], "Not attempted: " + exc.explanation
                )
                break
            continue
        except Exception as exc:
            audit.record(
                verb,
                actor_id=actor_id,
                actor_login=actor_login,
                app=app,
                scope_id=scope_id,
                outcome="failure",
                detail={"intent_seq": intent.seq, "error": type(exc).__name__},
                key=final_key(intent.seq),
            )
            raise
        results.append(finish(scope_id, result, intent.seq))
    if results:
        audit.checkpoint()
    return results


def _earlier(intent: audit.AuditEvent) -> str:
    when = intent.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"an earlier attempt by {intent.actor_login or intent.actor_id} at {when}"


def grant_scopes(
    *,
    client: OktaClient,
    app: OktaApp,
    scope_ids: Iterable[str],
    actor_id: str,
    actor_login: str,
    issuer: str | None = None,
) -> list[ScopeResult]:
    """Grant each scope to ``app`` through Okta, one ``POST
    /api/v1/apps/{appId}/grants`` per scope (Okta API reference: Application
    Grants, grantConsentToScope), with ``client`` acting as the signed-in
    admin. ``issuer`` defaults to the org URL (the Org Authorization Server).

    Returns one ScopeResult per distinct scope, in order. Okta errors never
    raise: they become failed results with an audit row each. After a 401/403
    the remaining scopes are not attempted. Unexpected exceptions (bugs) are
    recorded as a failure row and re-raised.
    """

    def finish(scope_id: str, result: GrantResult, intent_seq: int) -> ScopeResult:
        final = _record_granted(app, result, actor_id, actor_login, intent_seq)
        return ScopeResult(
            scope_id,
            ok=True,
            changed=not result.already_present,
            message=(
                f"{app.label} already held {scope_id}."
                if result.already_present
                else f"Granted {scope_id} to {app.label}."
            ),
            okta_request_id=result.request_id,
            audit_seq=final.seq,
        )

    def settle(
        scope_id: str, intent: audit.AuditEvent, okta_grants: list[Grant]
    ) -> ScopeResult | None:
        held = next((g for g in okta_grants if g.scope_id == scope_id), None)
        if held is None:
            return None
        final = _record_granted(
            app,
            GrantResult(held, already_present=False, request_id="", recovered=True),
            intent.actor_id,
            intent.actor_login,
            intent.seq,
            extra={"reconciled": True, "settled_by": actor_login or actor_id},
        )
        return ScopeResult(
            scope_id,
            ok=True,
            changed=True,
            message=(
                f"Granted {scope_id} to {app.label}: {_earlier(intent)} had "
                "already done it in Okta; recorded now, not sent again."
            ),
            audit_seq=final.seq,
        )

    return _write_each(
        verb="grant",
        app=app,
        scope_ids=scope_ids,
        actor_id=actor_id,
        actor_login=actor_login,
        call=lambda scope_id: client.grant_scope(app.okta_id, scope_id, issuer=issuer),
        finish=finish,
        read_back=lambda: client.list_grants(app.okta_id),
        settle=settle,
    )


def revoke_scopes(
    *,
    client: OktaClient,
    app: OktaApp,
    scope_ids: Iterable[str],
    actor_id: str,
    actor_login: str,
) -> list[ScopeResult]:
    """Revoke each scope from ``app`` through Okta (read the grants back, then
    ``DELETE /api/v1/apps/{appId}/grants/{grantId}``; Okta API reference:
    Application Grants, revokeScopeConsentGrant), acting as the signed-in
    admin. Same result shape and error handling as :func:`grant_scopes`; a
    grant already gone is success with ``changed=False``.
    """

    def finish(scope_id: str, result: RevokeResult, intent_seq: int) -> ScopeResult:
        final = _record_revoked(
            app, scope_id, result, actor_id, actor_login, intent_seq
        )
        return ScopeResult(
            scope_id,
            ok=True,
            changed=not result.already_gone,
            message=(
                f"{app.label} did not hold {scope_id} (already revoked)."
                if result.already_gone
                else f"Revoked {scope_id} from {app.label}."
            ),
            okta_request_id=result.request_id,
            audit_seq=final.seq,
        )

    def settle(
        scope_id: str, intent: audit.AuditEvent, okta_grants: list[Grant]
    ) -> ScopeResult | None:
        if any(g.scope_id == scope_id for g in okta_grants):
            return None
        final = _record_revoked(
            app,
            scope_id,
            RevokeResult(already_gone=False, request_id=""),
            intent.actor_id,
            intent.actor_login,
            intent.seq,
            extra={"reconciled": True, "settled_by": actor_login or actor_id},
        )
        return ScopeResult(
            scope_id,
            ok=True,
            changed=True,
            message=(
                f"Revoked {scope_id} from {app.label}: {_earlier(intent)} had "
                "already done it in Okta; recorded now, not sent again."
            ),
            audit_seq=final.seq,
        )

    return _write_each(
        verb="revoke",
        app=app,
        scope_ids=scope_ids,
        actor_id=actor_id,
        actor_login=actor_login,
        call=lambda scope_id: client.revoke_scope(app.okta_id, scope_id),
        finish=finish,
        read_back=lambda: client.list_grants(app.okta_id),
        settle=settle,
    )


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """Outcome of :func:`refresh_app`: ``change`` (what differed from Okta and was
    recorded as external changes), ``error`` (an Okta error, plain words) or ""."""

    change: AppChange
    error: str = ""


def refresh_app(
    *, client: OktaClient, app: OktaApp, actor_id: str = "", actor_login: str = ""
) -> RefreshResult:
    """Re-read one app and its grants from Okta now and apply them
    (``GET /api/v1/apps/{appId}`` and ``/grants``). Differences are recorded as
    ``external_grant``/``external_revoke`` rows (the admin who pressed refresh
    did not make them); an app Okta no longer has is marked removed; an error
    leaves the local grants as they were and marks the app's grants "unknown".
    Then a ``refresh`` audit row names the admin (``actor_*``) with what was
    found: ``detail = {"added": [...], "revoked": [...], "removed": bool,
    "error": str}``, outcome success or failure. Never raises OktaError: the
    error text is returned.
    """
    try:
        outcome = sync_one_app(client, app.okta_id, source="refresh")
    except OktaError as exc:
        result = RefreshResult(AppChange(app=app), error=describe(exc))
    else:
        if outcome.error is not None:
            result = RefreshResult(outcome.change, error=outcome.message)
        elif outcome.conflict:
            result = RefreshResult(
                outcome.change,
                error="The app changed locally while it was read; try again.",
            )
        else:
            result = RefreshResult(outcome.change)
    audit.record(
        "refresh",
        actor_id=actor_id,
        actor_login=actor_login,
        app=app,
        outcome="failure" if result.error else "success",
        detail={
            "added": list(result.change.added),
            "revoked": list(result.change.revoked),
            "removed": result.change.removed,
            "error": result.error,
        },
    )
    return result
