"""Grant and revoke Okta API scopes from the console: button → Okta → audit row.

One loop (:func:`write_scopes`) for both verbs, driven by :data:`VERBS` (the
Okta call, the local-state change and the messages of each). Per scope it
follows the intent protocol of :mod:`grantsconsole.grants.intents`: an intent
row is committed before the Okta call, made with the signed-in admin's own
client; a final row records the outcome and Okta's request id. The local grant
row changes only when Okta said yes. A scope already granted, or a grant
already gone, is success (``changed=False``). A retry after a request died
mid-call reads the grants back first and settles the dead request's intent
instead of writing to Okta again.

The approval gate: a grant of a scope rated at or above
``settings.APPROVAL_MIN_RISK`` is refused with :class:`ApprovalRequired` unless
it carries the :class:`Approval` of a request another Super Admin approved
(``grantsconsole.governance.approvals``). Every grant path (one app, bulk,
plans) comes through here, so none can skip it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from grantsconsole.grants import audit, intents, signals
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.grants.services.privilege_sync import reassess
from grantsconsole.grants.signals import grant_state_changed
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
from grantsconsole.okta import scopes as scope_catalog
from grantsconsole.okta.errors import describe

logger = logging.getLogger(__name__)

_OUTAGE_ERRORS = (OktaConnectionError, OktaServerError, OktaTimeout)
# After one of these, the next scope would fail the same way: stop the batch.
_STOP_ERRORS = (OktaUnauthorized, OktaPermissionDenied, OktaInsufficientScope)


class ApprovalRequired(Exception):
    """The grant includes scopes rated at or above ``settings.APPROVAL_MIN_RISK``
    and carries no approval: nothing was sent to Okta. ``scope_ids``: those
    scopes, in the order asked."""

    def __init__(self, scope_ids: list[str]) -> None:
        self.scope_ids = scope_ids
        super().__init__(
            "A second Super Admin must approve granting " + ", ".join(scope_ids) + "."
        )


@dataclass(frozen=True, slots=True)
class Approval:
    """The approved request a grant runs for: ``request_id`` (the request's
    id), ``scope_id`` (the one scope it covers) and ``requester`` (who asked;
    the grant's actor is the approver)."""

    request_id: int
    scope_id: str
    requester: Actor


def needs_approval(scope_id: str) -> bool:
    """True when granting ``scope_id`` needs an approved request: its risk (an
    uncatalogued ``*.manage`` scope is high) is at least
    ``settings.APPROVAL_MIN_RISK``; never when that setting is "off"."""
    threshold = settings.APPROVAL_MIN_RISK
    if threshold == "off":
        return False
    rank = scope_catalog.RISK_RANK[scope_catalog.risk(scope_id) or "low"]
    return rank >= scope_catalog.RISK_RANK[threshold]


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


def _granted(
    app: OktaApp,
    scope_id: str,
    result: GrantResult,
    actor: Actor,
    intent_seq: int,
    now: datetime,
) -> dict[str, object]:
    """Open (or confirm) the local grant Okta holds; the final row's detail."""
    grant = result.grant
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
        and grant.created_by_id != actor.actor_id
    )
    if row is None:
        maker = (
            Actor(grant.created_by_id, _known_login(grant.created_by_id))
            if made_elsewhere
            else actor
        )
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
            granted_by=maker.name[:300],
        )
        if made_elsewhere:
            audit.record(
                "external_grant",
                **maker.fields,
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
    return {
        "okta_grant_id": grant.id,
        "already_present": result.already_present,
        "recovered": result.recovered,
        **({"made_by": grant.created_by_id} if made_elsewhere else {}),
    }


def _revoked(
    app: OktaApp,
    scope_id: str,
    result: RevokeResult,
    actor: Actor,
    intent_seq: int,
    now: datetime,
) -> dict[str, object]:
    """Close the local grant of ``scope_id``; the final row's detail."""
    closed = 0
    for row in ScopeGrant.objects.filter(
        app=app, scope_id=scope_id, revoked_at__isnull=True
    ):
        row.revoked_at = now
        row.revoked_by = actor.name
        row.save(update_fields=["revoked_at", "revoked_by"])
        closed += 1
    return {
        "okta_grant_id": result.grant_id,
        "already_gone": result.already_gone,
        "local_rows_closed": closed,
    }


def _held_in_okta(scope_id: str, okta_grants: list[Grant]) -> GrantResult | None:
    held = next((g for g in okta_grants if g.scope_id == scope_id), None)
    if held is None:
        return None
    return GrantResult(held, already_present=False, request_id="", recovered=True)


def _gone_in_okta(scope_id: str, okta_grants: list[Grant]) -> RevokeResult | None:
    if any(g.scope_id == scope_id for g in okta_grants):
        return None
    return RevokeResult(already_gone=False, request_id="")


@dataclass(frozen=True)
class Verb:
    """How one verb writes. ``call(client, okta_app_id, scope_id, issuer)``: the
    Okta call (returns GrantResult | RevokeResult, raises OktaError);
    ``apply(app, scope_id, result, actor, intent_seq, now)``: the local-state
    change once Okta said yes, returning the final row's detail;
    ``done_in_okta(scope_id, okta_grants)``: the result to record for an
    earlier intent when Okta's grants show it carried out, else None;
    ``unchanged(result)``: Okta had it so already. Messages take ``scope``,
    ``app`` (its label) and, for ``settled``, ``earlier``."""

    call: Callable[[OktaClient, str, str, str | None], Any]
    apply: Callable[[OktaApp, str, Any, Actor, int, datetime], dict[str, object]]
    done_in_okta: Callable[[str, list[Grant]], Any]
    unchanged: Callable[[Any], bool]
    done: str
    already: str
    settled: str


VERBS: dict[str, Verb] = {
    "grant": Verb(
        call=lambda client, app_id, scope_id, issuer: client.grant_scope(
            app_id, scope_id, issuer=issuer
        ),
        apply=_granted,
        done_in_okta=_held_in_okta,
        unchanged=lambda result: result.already_present,
        done="Granted {scope} to {app}.",
        already="{app} already held {scope}.",
        settled=(
            "Granted {scope} to {app}: {earlier} had already done it in Okta; "
            "recorded now, not sent again."
        ),
    ),
    "revoke": Verb(
        call=lambda client, app_id, scope_id, issuer: client.revoke_scope(
            app_id, scope_id
        ),
        apply=_revoked,
        done_in_okta=_gone_in_okta,
        unchanged=lambda result: result.already_gone,
        done="Revoked {scope} from {app}.",
        already="{app} did not hold {scope} (already revoked).",
        settled=(
            "Revoked {scope} from {app}: {earlier} had already done it in Okta; "
            "recorded now, not sent again."
        ),
    ),
}


def _unique(scope_ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for scope_id in scope_ids:
        scope_id = scope_id.strip()
        if scope_id:
            seen.setdefault(scope_id, None)
    return list(seen)


def _failure_detail(exc: OktaError) -> dict[str, object]:
    return {
        "status": exc.status,
        "error_code": exc.error_code,
        "error_summary": exc.error_summary,
        "explanation": exc.explanation,
        "error": type(exc).__name__,
        # Okta down, not a refusal: the console shows a "stale since" banner.
        "outage": isinstance(exc, _OUTAGE_ERRORS),
    }


def _lock_app(app: OktaApp) -> None:
    """Take the app row's lock first, in the order the sync takes it (app, then its
    grants): taking the grants first deadlocked with a running sync on PostgreSQL."""
    if connection.features.has_select_for_update:
        list(OktaApp.objects.select_for_update().filter(pk=app.pk).values_list("pk"))


def _finish(
    verb: str,
    app: OktaApp,
    scope_id: str,
    result: Any,
    actor: Actor,
    intent_seq: int,
    extra: dict[str, object] | None = None,
) -> audit.AuditEvent:
    """Okta said yes: change the local state and write the intent's final row
    (and a correction row if it had been closed as failed), in one transaction;
    then say so (``grant_state_changed``)."""
    now = timezone.now()
    with transaction.atomic():
        _lock_app(app)
        detail = VERBS[verb].apply(app, scope_id, result, actor, intent_seq, now)
        reassess(app)
        signals.grants_changed.send(sender=OktaApp, app=app, baseline=False)
        OktaApp.objects.filter(pk=app.pk).update(
            version=F("version") + 1, last_change_at=now
        )
        final = intents.record_final(
            verb,
            intent_seq,
            app=app,
            scope_id=scope_id,
            actor=actor,
            outcome="success",
            okta_request_id=result.request_id,
            detail={**detail, **(extra or {})},
        )
        final = intents.correct(final, actor)
    grant_state_changed.send(sender=OktaApp, app_ids=[app.pk])
    return final


def _earlier(intent: audit.AuditEvent) -> str:
    when = intent.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"an earlier attempt by {intent.actor_login or intent.actor_id} at {when}"


def write_scopes(
    verb: str,
    *,
    client: OktaClient,
    app: OktaApp,
    scope_ids: Iterable[str],
    actor: Actor,
    issuer: str | None = None,
    approval: Approval | None = None,
) -> list[ScopeResult]:
    """Grant (``verb="grant"``) or revoke (``"revoke"``) each scope of ``app``
    through Okta, with ``client`` acting as the signed-in admin ``actor``.

    Grant: one ``POST /api/v1/apps/{appId}/grants`` per scope (Okta API
    reference: Application Grants, grantConsentToScope); ``issuer`` defaults to
    the org URL (the Org Authorization Server). Revoke: read the grants back,
    then ``DELETE /api/v1/apps/{appId}/grants/{grantId}``
    (revokeScopeConsentGrant); ``issuer`` is not used.

    Returns one ScopeResult per distinct scope, in order. Okta errors never
    raise: they become failed results with an audit row each. After a 401/403
    the remaining scopes are not attempted. A scope with an earlier intent of
    the same verb still open is first read back (once per batch): when Okta
    shows it done, that intent is settled and nothing is sent again.
    Unexpected exceptions (bugs) are recorded as a failure row and re-raised.
    Raises KeyError for an unknown ``verb``.

    A grant that includes a scope :func:`needs_approval` names raises
    :class:`ApprovalRequired` before any write, unless ``approval`` is given:
    then the grant must be of exactly ``approval.scope_id`` (else ValueError),
    and its final audit row names the request and the requester.
    """
    spec = VERBS[verb]
    scopes = _unique(scope_ids)
    approved: dict[str, object] = {}
    if verb == "grant" and approval is not None:
        if scopes != [approval.scope_id]:
            raise ValueError("An approval covers exactly the one scope it names.")
        approved = {
            "approved_request": approval.request_id,
            "requested_by_id": approval.requester.actor_id,
            "requested_by_login": approval.requester.login,
        }
    elif verb == "grant":
        gated = [s for s in scopes if needs_approval(s)]
        if gated:
            raise ApprovalRequired(gated)
    earlier = intents.open_intents(app.pk, timezone.now())
    okta_grants: list[Grant] | None = None
    results: list[ScopeResult] = []
    for index, scope_id in enumerate(scopes):
        unfinished = earlier.get((scope_id, verb))
        if unfinished is not None and okta_grants is None:
            try:
                okta_grants = client.list_grants(app.okta_id)
            except OktaError as exc:
                logger.info("read-back before a retry failed: %s", describe(exc))
                earlier = {}  # cannot tell: send the writes as usual
        if unfinished is not None and okta_grants is not None:
            done = spec.done_in_okta(scope_id, okta_grants)
            if done is not None:
                final = _finish(
                    verb,
                    app,
                    scope_id,
                    done,
                    intents.intent_actor(unfinished),
                    unfinished.seq,
                    extra={"reconciled": True, "settled_by": actor.name},
                )
                message = spec.settled.format(
                    scope=scope_id, app=app.label, earlier=_earlier(unfinished)
                )
                results.append(
                    ScopeResult(
                        scope_id,
                        ok=True,
                        changed=True,
                        message=message,
                        audit_seq=final.seq,
                    )
                )
                continue
        intent = intents.record_intent(verb, app, scope_id, actor)
        try:
            result = spec.call(client, app.okta_id, scope_id, issuer)
        except OktaError as exc:
            final = intents.record_final(
                verb,
                intent.seq,
                app=app,
                scope_id=scope_id,
                actor=actor,
                outcome="failure",
                okta_request_id=exc.request_id,
                detail=_failure_detail(exc),
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
                results += [
                    ScopeResult(
                        s,
                        ok=False,
                        changed=False,
                        message="Not attempted: " + exc.explanation,
                        attempted=False,
                    )
                    for s in scopes[index + 1 :]
                ]
                break
            continue
        except Exception as exc:
            intents.record_final(
                verb,
                intent.seq,
                app=app,
                scope_id=scope_id,
                actor=actor,
                outcome="failure",
                detail={"error": type(exc).__name__},
            )
            raise
        final = _finish(verb, app, scope_id, result, actor, intent.seq, approved)
        message = spec.already if spec.unchanged(result) else spec.done
        results.append(
            ScopeResult(
                scope_id,
                ok=True,
                changed=not spec.unchanged(result),
                message=message.format(scope=scope_id, app=app.label),
                okta_request_id=result.request_id,
                audit_seq=final.seq,
            )
        )
    if results:
        audit.checkpoint()
    return results
