"""OIN API service integrations as holders of ``okta.*`` scopes.

An API service integration (Okta API reference: API Service Integrations) is an
integration from Okta's catalog authorized in the org with ``okta.*`` scopes. It
is no app of the org: the apps listing never shows it, yet it holds scopes like
an app. The worker reads them with ``okta.oauthIntegrations.read`` (optional:
without it the pages say so and everything else works):

- the full sync reads them all at its end (:func:`sync_api_services`: the
  listing, ``ceil(I/page)`` requests, plus one secrets read per integration);
- the incremental sync follows ``integration.api_service.lifecycle.authorize``
  and ``.revoke`` in the System Log (:func:`apply_log_events`), naming who did it;
- the console removes one (:func:`remove_api_service`) with an intent row and a
  final row, as a revoke.

Audit actions: ``integration_discovered``, ``integration_removed`` (seen in or
gone from Okta; the actor is the System Log's, or none when only a comparison
showed it), ``integration_remove_intent`` and ``integration_remove`` (a console
removal).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from grantsconsole.grants import audit, privilege
from grantsconsole.grants.audit import NOBODY, Actor
from grantsconsole.grants.intents import final_key
from grantsconsole.grants.models import (
    ApiServiceIntegration,
    ApiServiceRead,
    AuditEvent,
)
from grantsconsole.grants.services.app_sync import TRANSIENT_ERRORS
from grantsconsole.okta import (
    LogEvent,
    OktaClient,
    OktaError,
    OktaInsufficientScope,
    OktaNotFound,
    OktaUnauthorized,
)
from grantsconsole.okta.errors import describe
from grantsconsole.okta.models import ApiServiceIntegration as OktaIntegration
from grantsconsole.okta.models import ApiServiceSecret

logger = logging.getLogger(__name__)

READ_SCOPE = "okta.oauthIntegrations.read"
LACKS_SCOPE = f"integrations not readable: the worker lacks {READ_SCOPE}"
NOT_READABLE = "integrations not readable"
LIFECYCLE_PREFIX = "integration.api_service.lifecycle."
#: System Log filter term for the incremental sync
LOG_FILTER_TERM = f'eventType sw "{LIFECYCLE_PREFIX}"'


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """What one read of every integration found: how many it saw, added and
    marked removed, and ``error`` ("" when read; else why nothing changed)."""

    seen: int = 0
    added: int = 0
    removed: int = 0
    error: str = ""


def read_state() -> ApiServiceRead | None:
    """The last attempt to list integrations (None: never tried)."""
    return ApiServiceRead.objects.filter(pk=1).first()


def _note_read(error: str) -> None:
    """Keep the outcome of a listing; no write when it is the same as before."""
    state = read_state()
    if state is None or state.error != error:
        ApiServiceRead.objects.update_or_create(
            pk=1, defaults={"since": timezone.now(), "error": error}
        )


def _not_readable(exc: OktaError) -> str:
    if isinstance(exc, OktaInsufficientScope):
        return LACKS_SCOPE
    return f"{NOT_READABLE}: {describe(exc)}"


def _secrets_json(secrets: list[ApiServiceSecret]) -> list[dict[str, str]]:
    return [
        {
            "id": s.id,
            "status": s.status,
            "created": s.created.astimezone(UTC).isoformat() if s.created else "",
        }
        for s in secrets
    ]


def _read_secrets(client: OktaClient, okta_id: str) -> tuple[list | None, str]:
    """(secrets as stored, "") or (None, why not): one integration's secrets
    failing keeps its other data and its last known secrets."""
    try:
        return _secrets_json(
            client.list_api_service_integration_instance_secrets(okta_id)
        ), ""
    except (*TRANSIENT_ERRORS, OktaUnauthorized):
        raise
    except OktaError as exc:
        return None, f"secrets not readable: {describe(exc)}"


def _store(
    found: OktaIntegration,
    secrets: list | None,
    secrets_error: str,
    *,
    actor: Actor,
    source: str,
    baseline: bool = False,
) -> bool:
    """Create or update the row for ``found``; True when it is new (or back)
    here, recorded with an ``integration_discovered`` row."""
    row = ApiServiceIntegration.objects.filter(okta_id=found.id).first()
    appeared = row is None or row.removed_at is not None
    row = row or ApiServiceIntegration(okta_id=found.id)
    values = {
        "name": found.name,
        "type": found.type,
        "granted_scopes": list(found.granted_scopes),
        "created_by_id": found.created_by,
        "okta_created": found.created_at,
        "secrets": row.secrets if secrets is None else secrets,
        "secrets_error": secrets_error,
        "removed_at": None,
        "removed_by": "",
    }
    if row.pk is not None and all(getattr(row, k) == v for k, v in values.items()):
        return False  # as stored: no write
    for k, v in values.items():
        setattr(row, k, v)
    row.save()
    if appeared:
        audit.record(
            "integration_discovered",
            **actor.fields,
            detail={
                "integration": found.id,
                "name": found.name,
                "type": found.type,
                "scopes": list(found.granted_scopes),
                "source": source,
                **({"baseline": True} if baseline else {}),
                **({"event": actor.event_uuid} if actor.event_uuid else {}),
            },
            key=f"integration-seen:{found.id}:{actor.event_uuid}"
            if actor.event_uuid
            else None,
        )
    return appeared


def _mark_removed(
    row: ApiServiceIntegration, *, actor: Actor, source: str, request_id: str = ""
) -> bool:
    """Mark ``row`` removed with an ``integration_removed`` row; False when it
    already was."""
    if row.removed_at is not None:
        return False
    row.removed_at, row.removed_by = timezone.now(), actor.name
    row.save(update_fields=["removed_at", "removed_by"])
    audit.record(
        "integration_removed",
        **actor.fields,
        okta_request_id=request_id,
        detail={
            "integration": row.okta_id,
            "name": row.name,
            "scopes": row.granted_scopes,
            "source": source,
            **({"event": actor.event_uuid} if actor.event_uuid else {}),
        },
    )
    return True


def sync_api_services(client: OktaClient, *, source: str) -> SyncOutcome:
    """Read every integration and its secrets and make the stored rows match.

    Requests: the listing's pages plus one secrets read per integration.
    Integrations no longer listed are marked removed (an ``integration_removed``
    row with no actor: only the comparison showed it). Raises TRANSIENT_ERRORS
    and OktaUnauthorized for the caller to retry or fail; any other error on the
    listing (a missing scope, a refusal, an unreadable body) changes no row and
    is kept as the reason pages show (:func:`read_state`).
    """
    try:
        found = client.list_api_service_integration_instances()
    except (*TRANSIENT_ERRORS, OktaUnauthorized):
        raise
    except OktaError as exc:
        error = _not_readable(exc)
        _note_read(error)
        logger.info("API service integrations not read: %s", error)
        return SyncOutcome(error=error)
    secrets = {s.id: _read_secrets(client, s.id) for s in found}
    baseline = read_state() is None or not ApiServiceIntegration.objects.exists()
    added = removed = 0
    with transaction.atomic():
        for item in found:
            added += _store(
                item, *secrets[item.id], actor=NOBODY, source=source, baseline=baseline
            )
        listed = {s.id for s in found}
        for row in ApiServiceIntegration.objects.filter(removed_at__isnull=True):
            if row.okta_id not in listed:
                removed += _mark_removed(row, actor=NOBODY, source=source)
        _note_read("")
    return SyncOutcome(len(found), 0 if baseline else added, removed)


def apply_log_events(
    client: OktaClient, events: tuple[LogEvent, ...], *, source: str
) -> int:
    """Apply the ``integration.api_service.lifecycle.*`` events among ``events``
    (others are ignored); returns how many integrations changed here.

    An authorize re-reads the integration (and its secrets) from Okta and records
    it with the event's actor; a revoke, or an integration Okta no longer has,
    marks it removed with the event's actor. Idempotent: a page read twice
    changes nothing more. Errors other than TRANSIENT_ERRORS and
    OktaUnauthorized (raised) are kept as the reason pages show.
    """
    changed = 0
    for event in sorted(events, key=lambda e: e.published):
        if not event.event_type.startswith(LIFECYCLE_PREFIX):
            continue
        if event.outcome_result not in ("SUCCESS", ""):
            continue
        actor = Actor.of_event(event)
        for target in event.targets:
            if not target.id:
                continue
            if event.event_type.endswith(".revoke"):
                row = ApiServiceIntegration.objects.filter(okta_id=target.id).first()
                if row is not None:
                    changed += _mark_removed(row, actor=actor, source=source)
                continue
            try:
                found = client.get_api_service_integration_instance(target.id)
            except OktaNotFound:
                row = ApiServiceIntegration.objects.filter(okta_id=target.id).first()
                if row is not None:
                    changed += _mark_removed(row, actor=actor, source=source)
                continue
            except (*TRANSIENT_ERRORS, OktaUnauthorized):
                raise
            except OktaError as exc:
                _note_read(_not_readable(exc))
                continue
            secrets, secrets_error = _read_secrets(client, found.id)
            with transaction.atomic():
                changed += _store(
                    found, secrets, secrets_error, actor=actor, source=source
                )
    return changed


def remove_api_service(
    client: OktaClient, row: ApiServiceIntegration, actor: Actor
) -> AuditEvent:
    """Remove an integration in Okta (which revokes every scope it holds) on
    behalf of ``actor``, with the intent protocol: a pending
    ``integration_remove_intent`` row first, then the final
    ``integration_remove`` row (success, already gone, or failure with the
    plain reason) and, on success, the row marked removed. Returns the final
    audit row. Okta errors are recorded, then raised for the caller to explain.
    """
    intent = audit.record(
        "integration_remove_intent",
        **actor.fields,
        outcome="pending",
        detail={"integration": row.okta_id, "name": row.name},
    )

    def final(outcome: str, request_id: str = "", **detail: object):
        return audit.record(
            "integration_remove",
            **actor.fields,
            outcome=outcome,
            okta_request_id=request_id,
            detail={
                "intent_seq": intent.seq,
                "integration": row.okta_id,
                "name": row.name,
                "scopes": row.granted_scopes,
                **detail,
            },
            key=final_key(intent.seq),
        )

    try:
        result = client.delete_api_service_integration_instance(row.okta_id)
    except OktaError as exc:
        final("failure", exc.request_id, error=describe(exc))
        raise
    with transaction.atomic():
        done = final("success", result.request_id, already_gone=result.already_gone)
        if row.removed_at is None:
            row.removed_at, row.removed_by = timezone.now(), actor.name
            row.save(update_fields=["removed_at", "removed_by"])
    return done


# -- reads for the pages ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Holder:
    """A present integration as the pages list it beside apps."""

    okta_id: str
    name: str
    type: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Holders:
    """The present integrations (by name) and whether the last listing read:
    ``error`` "" when it did, else the reason; ``tried`` False before any sync
    tried. The stored rows stay shown when a later read failed."""

    integrations: tuple[Holder, ...]
    error: str
    tried: bool

    def holding(self, scope_id: str) -> list[Holder]:
        """The integrations granted ``scope_id``."""
        return [h for h in self.integrations if scope_id in h.scopes]

    def scope_counts(self) -> dict[str, int]:
        """scopeId -> how many integrations hold it (scopes unknown to the
        catalog included, by name)."""
        counts: dict[str, int] = {}
        for h in self.integrations:
            for s in h.scopes:
                counts[s] = counts.get(s, 0) + 1
        return dict(sorted(counts.items()))


def holders() -> Holders:
    """The present integrations and the read state, in one query (a UNION of
    the integrations and the read-state row), so pages that show them keep
    their query budget."""
    rows = (
        ApiServiceIntegration.objects.filter(removed_at__isnull=True)
        .order_by()
        .annotate(
            kind=Value("i"), scopes=Cast("granted_scopes", TextField()), err=Value("")
        )
        .values_list("kind", "okta_id", "name", "type", "scopes", "err")
    )
    state = (
        ApiServiceRead.objects.order_by()
        .annotate(
            kind=Value("r"),
            oid=Value(""),
            nm=Value(""),
            tp=Value(""),
            scopes=Value("[]"),
            err=F("error"),
        )
        .values_list("kind", "oid", "nm", "tp", "scopes", "err")
    )
    found: list[Holder] = []
    error, tried = "", False
    for kind, okta_id, name, type_, scopes, err in rows.union(state, all=True):
        if kind == "r":
            error, tried = err, True
            continue
        parsed = json.loads(scopes) if isinstance(scopes, str) else scopes
        found.append(Holder(okta_id, name, type_, tuple(parsed or ())))
    found.sort(key=lambda h: (h.name.lower(), h.okta_id))
    return Holders(tuple(found), error, tried)


def report_section() -> dict[str, Any]:
    """The audit report's ``api_service_integrations`` section: ``error`` (""
    when the last listing read, else why not: the rows are then the last
    known) and ``integrations``: [{"okta_id", "name", "type", "scopes",
    "created_by_id", "created", "secrets": [{"status", "created"}],
    "secrets_error", "effective": {scopeId: what it lets the integration do,
    in words, for each manage scope (grants/privilege.py)}}] for every
    present integration, by name."""
    state = read_state()
    return {
        "error": state.error if state else "never read",
        "integrations": [
            {
                "okta_id": r.okta_id,
                "name": r.name,
                "type": r.type,
                "scopes": list(r.granted_scopes),
                "created_by_id": r.created_by_id,
                "created": r.okta_created.isoformat() if r.okta_created else "",
                "secrets": [
                    {"status": s.get("status", ""), "created": s.get("created", "")}
                    for s in r.secrets
                ],
                "secrets_error": r.secrets_error,
                "effective": {
                    line.scope_id: line.text
                    for line in privilege.assess_integration(r.granted_scopes).lines
                },
            }
            for r in ApiServiceIntegration.objects.filter(removed_at__isnull=True)
        ],
    }
