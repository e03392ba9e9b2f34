"""The intent protocol: how a console write to Okta is recorded so no outcome is lost.

Every grant or revoke the console sends to Okta leaves these audit rows:

1. **Intent row** (:func:`record_intent`): ``grant_intent`` / ``revoke_intent``,
   outcome "pending", committed before the Okta call.
2. **Final row** (:func:`record_final`): ``grant`` / ``revoke`` with the outcome
   and Okta's request id, ``event_key`` ``intent-final:<intent seq>``
   (:func:`final_key`). An intent gets at most one final row, whoever writes it:
   the console, a retry or a sync.
3. **Correction row** (:func:`correct`): when the final row written first said
   "failure" (the intent was closed as failed) while Okta did the change, a
   success row keyed ``intent-correction:<final seq>`` names it. Rows are never
   edited.

An intent without a final row is **unfinished** (:func:`unfinished`,
:func:`open_intents`): its request died after Okta may have acted. It is
**settled** (:func:`settle`, a final row marked ``reconciled``) as soon as
someone sees Okta's answer: a retry of the same write reads the grants back
first (``services.scope_writes``), a sync that finds the change done applies it
(``services.snapshots.apply_snapshot``). Younger than :data:`INTENT_IN_FLIGHT`
it may still be in flight and is left alone. What is still unfinished after
every app was read is closed by :func:`reconcile_pending_intents`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant

# How long one scope's console write can still be running. gunicorn's gthread
# timeout does not end a request, so this is the Okta client's own worst case: up
# to 3 POSTs, each followed by a read-back, each at most 60 s (total_timeout),
# plus a token refresh and a 5 s rate-limit wait: about 7 minutes. An unfinished
# intent younger than this may still be in flight.
INTENT_IN_FLIGHT = timedelta(minutes=10)
INTENT_HORIZON = timedelta(days=7)  # older unfinished intents are history
INTENT_ACTIONS = {"grant_intent": "grant", "revoke_intent": "revoke"}


def final_key(intent_seq: int) -> str:
    """The ``event_key`` of the one final row (``grant``/``revoke``) an intent
    row may get, whoever writes it: the console, a retry or a sync."""
    return f"intent-final:{intent_seq}"


def record_intent(verb: str, app: OktaApp, scope_id: str, actor: Actor) -> AuditEvent:
    """The pending ``<verb>_intent`` row ("grant" | "revoke"), before Okta is called."""
    return audit.record(
        f"{verb}_intent", **actor.fields, app=app, scope_id=scope_id, outcome="pending"
    )


def record_final(
    verb: str,
    intent_seq: int,
    *,
    app: OktaApp,
    scope_id: str,
    actor: Actor,
    outcome: str,
    okta_request_id: str = "",
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    """The intent's final ``verb`` row (``detail`` gains ``intent_seq``). Returns
    the final row already there when someone else wrote it first."""
    return audit.record(
        verb,
        **actor.fields,
        app=app,
        scope_id=scope_id,
        outcome=outcome,
        okta_request_id=okta_request_id,
        detail={"intent_seq": intent_seq, **(detail or {})},
        key=final_key(intent_seq),
    )


def correct(final: AuditEvent, actor: Actor) -> AuditEvent:
    """``final`` when it says "success"; else (it was closed as a failure while
    Okta did the change) a correcting success row by ``actor`` that names it."""
    if final.outcome == "success":
        return final
    return audit.record(
        final.action,
        **actor.fields,
        app=final.app,
        scope_id=final.scope_id,
        outcome="success",
        detail={
            "intent_seq": final.detail.get("intent_seq"),
            "corrects_seq": final.seq,
        },
        key=f"intent-correction:{final.seq}",
    )


def unfinished(intents: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The intent rows of ``intents`` (kept in their order) that have no final
    row yet. One query for the final rows, whatever their number."""
    rows = list(intents)
    if not rows:
        return []
    finished = set(
        AuditEvent.objects.filter(
            event_key__in=[final_key(i.seq) for i in rows]
        ).values_list("event_key", flat=True)
    )
    return [i for i in rows if final_key(i.seq) not in finished]


def open_intents(app_pk: int, now: datetime) -> dict[tuple[str, str], AuditEvent]:
    """Console intents for one app that have no final row yet, newest per
    (scope_id, "grant"|"revoke"); at most INTENT_HORIZON old."""
    intents = AuditEvent.objects.filter(
        app_id=app_pk,
        action__in=INTENT_ACTIONS,
        created_at__gte=now - INTENT_HORIZON,
    ).order_by("seq")
    return {(i.scope_id, INTENT_ACTIONS[i.action]): i for i in unfinished(intents)}


def intent_actor(intent: AuditEvent) -> Actor:
    """The admin who recorded ``intent``."""
    return Actor(actor_id=intent.actor_id, login=intent.actor_login)


def settle(
    intent: AuditEvent, app: OktaApp, source: str, okta_grant_id: str
) -> AuditEvent:
    """Record the final row of an intent whose change Okta shows as done."""
    return record_final(
        INTENT_ACTIONS[intent.action],
        intent.seq,
        app=app,
        scope_id=intent.scope_id,
        actor=intent_actor(intent),
        outcome="success",
        detail={
            "reconciled": True,
            "detected_by": source,
            "okta_grant_id": okta_grant_id,
        },
    )


def reconcile_pending_intents(
    *, source: str, read_since: datetime, app_ids: Iterable[int] | None = None
) -> int:
    """Close intent rows that never got their final row (the web process died
    between the Okta call and recording its outcome, and nobody retried).

    ``read_since`` is when the caller began reading every app from Okta (a full
    sync's start, UTC): an intent recorded at least INTENT_IN_FLIGHT before it
    had finished at Okta before its app was read, so the local state now shows
    its outcome. (Intents Okta carried out were already settled as "success"
    by ``apply_snapshot``.) Each such intent gets its final row, outcome
    "success" when the local state shows the intended result and "failure"
    otherwise, marked ``reconciled``; idempotent (keyed by the intent's seq).
    Only apps whose grants were read cleanly count (state "ok"; with
    ``app_ids``, only those app pks). Returns how many were closed.
    """
    intents = AuditEvent.objects.filter(
        action__in=INTENT_ACTIONS,
        created_at__lt=read_since - INTENT_IN_FLIGHT,
        created_at__gte=read_since - INTENT_HORIZON,
        app__grants_state=OktaApp.GrantsState.OK,
    ).order_by("seq")
    if app_ids is not None:
        intents = intents.filter(app_id__in=list(app_ids))
    closed = 0
    for intent in unfinished(intents):
        final_action = INTENT_ACTIONS[intent.action]
        held = ScopeGrant.objects.filter(
            app_id=intent.app_id, scope_id=intent.scope_id, revoked_at__isnull=True
        ).exists()
        done = held if final_action == "grant" else not held
        if (
            done
            and AuditEvent.objects.filter(
                action=f"external_{final_action}",
                app_id=intent.app_id,
                scope_id=intent.scope_id,
                seq__gt=intent.seq,
            ).exists()
        ):
            done = False  # someone else made the change, outside the console
        record_final(
            final_action,
            intent.seq,
            app=intent.app,
            scope_id=intent.scope_id,
            actor=intent_actor(intent),
            outcome="success" if done else "failure",
            detail={
                "reconciled": True,
                "detected_by": source,
                "okta_state": "granted" if held else "not granted",
            },
        )
        closed += 1
    return closed
