"""Two-person approval of risky grants: open a request, approve or deny it,
expire it.

A grant that ``scope_writes.needs_approval`` names becomes a
:class:`GrantRequest`. Another Super Admin approves it: the grant then runs
through the normal write path (``scope_writes.write_scopes``) with the
APPROVER's client, so Okta's System Log names the approver, and the audit rows
name both people. Every decision is an audit row: ``request_opened``,
``request_approved``, ``request_denied``, ``request_expired``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from grantsconsole.governance.approvals_models import GrantRequest
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaApp, ScopeGrant
from grantsconsole.grants.services import scope_writes
from grantsconsole.okta import OktaClient

JUSTIFICATION_MAX = 2000
State = GrantRequest.State


class RequestRefused(Exception):
    """The request cannot be opened or decided as asked; ``message`` says why
    in plain words. Nothing was written."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Decision:
    """What an approval did: ``request`` (its state now), ``ok`` (the grant is
    held in Okta), ``message`` (plain words for the page)."""

    request: GrantRequest
    ok: bool
    message: str


def _requester(request: GrantRequest) -> Actor:
    return Actor(request.requester_id, request.requester_login)


def _detail(request: GrantRequest, **extra: object) -> dict[str, object]:
    return {
        "request": request.pk,
        "requested_by_id": request.requester_id,
        "requested_by_login": request.requester_login,
        "justification": request.justification,
        "requested_ends_at": request.requested_ends_at.isoformat()
        if request.requested_ends_at
        else "",
        **extra,
    }


def request_for_plan(
    app: OktaApp, scope_ids: list[str], requester: Actor, plan: str
) -> list[GrantRequest]:
    """Open (or find pending) one request per scope a plan's grant needs
    approved (``scope_writes.ApprovalRequired.scope_ids``), justified by the
    plan that asked for it (``plan``: e.g. "the least-privilege plan"), for
    the admin who applied it. Raises RequestRefused as :func:`open_request`."""
    return [
        open_request(
            app,
            scope_id,
            requester,
            f"Applying {plan}: grant {scope_id} to {app.label or app.okta_id}.",
        )
        for scope_id in scope_ids
    ]


def open_request(
    app: OktaApp,
    scope_id: str,
    requester: Actor,
    justification: str,
    ends_at: datetime | None = None,
) -> GrantRequest:
    """Open a request to grant ``scope_id`` to ``app`` (or return the pending
    one that already asks for it). ``justification``: required, at most
    JUSTIFICATION_MAX characters; ``ends_at``: the grant's end time once
    approved (aware, in the future) or None. Expires after
    ``settings.APPROVAL_REQUEST_DAYS`` days. Raises RequestRefused for a
    blank justification, an end time in the past or an app removed from Okta."""
    justification = justification.strip()
    if not justification:
        raise RequestRefused(
            "Say why the app needs this scope: a second admin reads it."
        )
    if len(justification) > JUSTIFICATION_MAX:
        raise RequestRefused(
            f"The justification is longer than {JUSTIFICATION_MAX} characters."
        )
    now = timezone.now()
    if ends_at is not None and ends_at <= now:
        raise RequestRefused("The end time has passed: pick one in the future.")
    if app.removed_at is not None:
        raise RequestRefused(f"{app.label} is no longer in Okta.")
    with transaction.atomic():
        pending = GrantRequest.objects.filter(
            app=app, scope_id=scope_id, state=State.PENDING, expires_at__gt=now
        ).first()
        if pending is not None:
            return pending
        request = GrantRequest.objects.create(
            app=app,
            scope_id=scope_id,
            requester_id=requester.actor_id,
            requester_login=requester.login,
            justification=justification,
            requested_ends_at=ends_at,
            created_at=now,
            expires_at=now + timedelta(days=settings.APPROVAL_REQUEST_DAYS),
        )
        audit.record(
            "request_opened",
            **requester.fields,
            app=app,
            scope_id=scope_id,
            outcome="pending",
            detail=_detail(request, expires_at=request.expires_at.isoformat()),
        )
    return request


def _decidable(request_id: int, decider: Actor) -> GrantRequest:
    """The pending request, locked; RequestRefused when it is not pending, has
    expired, or ``decider`` asked for it."""
    request = (
        GrantRequest.objects.select_for_update()
        .select_related("app")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise RequestRefused("There is no such request.")
    if request.state != State.PENDING:
        raise RequestRefused(f"This request is already {request.state}.")
    if request.expires_at <= timezone.now():
        raise RequestRefused(
            "This request has expired: ask again if it is still needed."
        )
    if _same_person(decider, request):
        raise RequestRefused(
            "You asked for this grant: another Super Admin must decide on it."
        )
    if (
        request.requested_ends_at is not None
        and request.requested_ends_at <= timezone.now()
    ):
        raise RequestRefused(
            "The end time this request asked for has passed: granting it now "
            "would only be revoked again. Ask again with a new end time."
        )
    return request


def _same_person(decider: Actor, request: GrantRequest) -> bool:
    """Whether ``decider`` asked for ``request``: the same Okta user id, or
    the same login when either id is unknown."""
    if decider.actor_id and request.requester_id:
        return decider.actor_id == request.requester_id
    return bool(decider.login) and (
        decider.login.casefold() == request.requester_login.casefold()
    )


def _close(
    request: GrantRequest, state: str, decider: Actor | None, reason: str = ""
) -> None:
    request.state = state
    request.decided_at = timezone.now()
    if decider is not None:
        request.decided_by_id = decider.actor_id
        request.decided_by_login = decider.login
    request.reason = reason
    request.save(
        update_fields=[
            "state",
            "decided_at",
            "decided_by_id",
            "decided_by_login",
            "reason",
        ]
    )


def deny(request_id: int, approver: Actor, reason: str = "") -> GrantRequest:
    """Deny a pending request (another Super Admin than the requester);
    ``reason`` is optional. Raises RequestRefused (see ``approve``)."""
    with transaction.atomic():
        request = _decidable(request_id, approver)
        _close(request, State.DENIED, approver, reason.strip()[:JUSTIFICATION_MAX])
        audit.record(
            "request_denied",
            **approver.fields,
            app=request.app,
            scope_id=request.scope_id,
            outcome="denied",
            detail=_detail(request, reason=request.reason),
        )
    return request


def approve(request_id: int, approver: Actor, client: OktaClient) -> Decision:
    """Approve a pending request and grant its scope through the normal write
    path with ``client``, the APPROVER's own (Okta's System Log names them;
    the grant's audit rows name the approver as actor and the requester in
    their detail). A scope the app already holds is success. With a requested
    end time the local grant gets it (``ScopeGrant.ends_at``).

    Outcomes: granted → approved; the app gone from Okta (removed locally, or
    Okta answers 404) → failed, with the reason; another Okta error → still
    pending (it may be approved again), the error in the Decision. Each is an
    audit row. Raises RequestRefused when the request is not pending, has
    expired, or ``approver`` is its requester (checked again after the Okta
    call: when another approver decided it meanwhile, this one is refused,
    and Okta's grant, made twice, is held once).
    """
    with transaction.atomic():
        request = _decidable(request_id, approver)
        app = request.app
        if app.removed_at is not None:
            return _failed(request, approver, f"{app.label} was deleted from Okta.")
    result = scope_writes.write_scopes(
        "grant",
        client=client,
        app=app,
        scope_ids=[request.scope_id],
        actor=approver,
        approval=scope_writes.Approval(
            request.pk, request.scope_id, _requester(request)
        ),
    )[0]
    with transaction.atomic():
        request = _decidable(request_id, approver)
        if result.ok:
            if request.requested_ends_at is not None:
                ScopeGrant.objects.filter(
                    app=app, scope_id=request.scope_id, revoked_at__isnull=True
                ).update(ends_at=request.requested_ends_at)
            _close(request, State.APPROVED, approver)
            audit.record(
                "request_approved",
                **approver.fields,
                app=app,
                scope_id=request.scope_id,
                okta_request_id=result.okta_request_id,
                detail=_detail(request, grant_audit_seq=result.audit_seq),
            )
            return Decision(request, True, result.message)
        if result.status == 404:
            return _failed(
                request,
                approver,
                f"{app.label} was deleted from Okta: {result.message}",
            )
        audit.record(
            "request_approved",
            **approver.fields,
            app=app,
            scope_id=request.scope_id,
            outcome="failure",
            okta_request_id=result.okta_request_id,
            detail=_detail(request, error=result.message, still_pending=True),
        )
        return Decision(request, False, f"Not granted, still pending: {result.message}")


def _failed(request: GrantRequest, approver: Actor, reason: str) -> Decision:
    _close(request, State.FAILED, approver, reason)
    audit.record(
        "request_approved",
        **approver.fields,
        app=request.app,
        scope_id=request.scope_id,
        outcome="failure",
        detail=_detail(request, reason=reason),
    )
    return Decision(request, False, reason)


def expire_requests(now: datetime | None = None) -> int:
    """Mark every pending request past its ``expires_at`` as expired, one
    audit row each; returns how many."""
    now = now or timezone.now()
    expired = 0
    for pk in GrantRequest.objects.filter(
        state=State.PENDING, expires_at__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            request = (
                GrantRequest.objects.select_for_update()
                .select_related("app")
                .filter(pk=pk, state=State.PENDING)
                .first()
            )
            if request is None:
                continue
            _close(request, State.EXPIRED, None, "Nobody decided in time.")
            audit.record(
                "request_expired",
                app=request.app,
                scope_id=request.scope_id,
                outcome="skipped",
                detail=_detail(request, expires_at=request.expires_at.isoformat()),
            )
            expired += 1
    return expired


def pending_count() -> int:
    """How many requests wait for a decision (one query)."""
    return GrantRequest.objects.filter(
        state=State.PENDING, expires_at__gt=timezone.now()
    ).count()
