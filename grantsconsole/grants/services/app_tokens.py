"""Finishing a revoke: an app's refresh tokens, and the check that the revoked
scope stopped reaching tokens.

Revoking a scope stops Okta issuing it, but tokens already issued keep it:

- refresh tokens (and the access tokens minted from them) until they are
  revoked: :func:`revoke_refresh_tokens` (``DELETE /api/v1/apps/{appId}/tokens``
  with the admin's own token, which needs ``okta.apps.manage``), audited as a
  ``tokens_revoke_intent`` row before the call and a ``tokens_revoke`` final
  row after it (the intent protocol of :mod:`grantsconsole.grants.intents`);
- access tokens issued without a refresh token until they expire: at most
  ``settings.OKTA_ACCESS_TOKEN_LIFETIME`` after the revoke (:func:`window_end`).

Once that window has passed (plus ``CHECK_GRACE_SECONDS``),
:func:`check_token_window` reads the System Log for token issuance to the app
carrying the scope since the revoke and records the verdict as a
``token_window_check`` audit row (one per revoke). The console queues that
check with a countdown; :func:`due_window_checks` finds the checks whose task
was lost (a broker restart, a worker gone), for a periodic sweep.
:func:`read_refresh_tokens` stores the summary the app page shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from grantsconsole.grants import audit, intents
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AppRefreshTokens, AuditEvent, OktaApp
from grantsconsole.okta import LogEvent, OktaClient, OktaError

TOKEN_GRANT_EVENTS = "app.oauth2.token.grant"  # Org AS issuance (and .access_token…)
MAX_LOG_PAGES = 50  # 50,000 events: more is a busy org, checked again next time
# The System Log may show an event a little after it happened: check this much
# after the residual window ends.
CHECK_GRACE_SECONDS = 120
CHECK_KEY_PREFIX = "token-window:"  # + the revoke's seq: one check row per revoke


def lifetime() -> timedelta:
    """The Org AS access-token lifetime (``settings.OKTA_ACCESS_TOKEN_LIFETIME``)."""
    return timedelta(seconds=settings.OKTA_ACCESS_TOKEN_LIFETIME)


def lifetime_minutes() -> int:
    """:func:`lifetime` in whole minutes, as the pages state it."""
    return int(lifetime().total_seconds() // 60)


def window_end(revoke: AuditEvent) -> datetime:
    """When the last access token that could carry the scope revoked by
    ``revoke`` (a successful ``revoke`` audit row) expires."""
    return revoke.created_at + lifetime()


def scope_revoke(app: OktaApp, seq: str | int) -> AuditEvent | None:
    """The successful revoke of ``app`` whose final audit row has ``seq``, else
    None (unknown, another app's, failed, or a grant that was already gone)."""
    seq = str(seq)
    if not seq.isdigit() or len(seq) > 18:
        return None
    event = AuditEvent.objects.filter(
        seq=int(seq), app=app, action="revoke", outcome="success"
    ).first()
    if event is None or event.detail.get("already_gone"):
        return None
    return event


def read_refresh_tokens(client: OktaClient, app: OktaApp) -> AppRefreshTokens:
    """Read the app's live refresh tokens from Okta and store their count,
    newest and oldest. An Okta error (403, 404, an outage…) is stored as the
    reason they are not readable, keeping the previous figures; never raises
    OktaError."""
    summary, _ = AppRefreshTokens.objects.get_or_create(app=app)
    now = timezone.now()
    try:
        tokens = client.list_oauth2_tokens_for_application(app.okta_id)
    except OktaError as exc:
        summary.error = exc.explanation[:500]
        summary.error_at = now
        summary.save(update_fields=["error", "error_at"])
        return summary
    created = sorted(t.created for t in tokens if t.created is not None)
    summary.count = len(tokens)
    summary.newest = created[-1] if created else None
    summary.oldest = created[0] if created else None
    summary.read_at = now
    summary.error = ""
    summary.error_at = None
    summary.save()
    return summary


@dataclass(frozen=True, slots=True)
class TokensRevokeResult:
    """Outcome of :func:`revoke_refresh_tokens`: ``ok``; ``message`` in plain
    words; ``window_end`` (UTC) until which access tokens issued without a
    refresh token may still carry the scope; ``audit_seq`` of the final row."""

    ok: bool
    message: str
    window_end: datetime
    audit_seq: int
    okta_request_id: str = ""


def revoke_refresh_tokens(
    *, client: OktaClient, app: OktaApp, revoke: AuditEvent, actor: Actor
) -> TokensRevokeResult:
    """Revoke every refresh token of ``app`` (and the access tokens minted from
    them) after ``revoke`` (the scope revoke's final audit row), with ``client``
    acting as the signed-in admin ``actor``; then re-read the tokens summary.

    Okta API reference: Application Tokens, ``revokeOAuth2TokensForApplication``.
    Okta errors never raise: they become a failure row and result. Unexpected
    exceptions are recorded as a failure row and re-raised.
    """
    scope_id = revoke.scope_id
    end = window_end(revoke)
    intent = intents.record_intent("tokens_revoke", app, scope_id, actor)
    detail = {
        "after_revoke_seq": revoke.seq,
        "window_end": end.isoformat(),
        "window_ends": f"{end:%Y-%m-%d %H:%M} UTC",
    }

    def finish(outcome: str, request_id: str = "", **more: object) -> AuditEvent:
        """The intent's final row, with the window and ``more`` in its detail."""
        return intents.record_final(
            "tokens_revoke",
            intent.seq,
            app=app,
            scope_id=scope_id,
            actor=actor,
            outcome=outcome,
            okta_request_id=request_id,
            detail={**detail, **more},
        )

    try:
        done = client.revoke_oauth2_tokens_for_application(app.okta_id)
    except OktaError as exc:
        final = finish(
            "failure", exc.request_id, status=exc.status, error_code=exc.error_code
        )
        return TokensRevokeResult(
            False,
            f"Refresh tokens not revoked: {exc.explanation}",
            end,
            final.seq,
            exc.request_id,
        )
    except Exception as exc:
        finish("failure", error=type(exc).__name__)
        raise
    final = finish("success", done.request_id)
    audit.checkpoint()
    read_refresh_tokens(client, app)
    return TokensRevokeResult(
        True,
        f"Revoked {app.label}'s refresh tokens and the access tokens minted from "
        f"them. Access tokens issued without a refresh token can carry {scope_id} "
        f"until they expire: at most until {end:%H:%M} UTC.",
        end,
        final.seq,
        done.request_id,
    )


def check_key(revoke: AuditEvent) -> str:
    """The audit ``key`` of the one ``token_window_check`` row of ``revoke``."""
    return f"{CHECK_KEY_PREFIX}{revoke.seq}"


def due_window_checks(now: datetime | None = None, limit: int = 20) -> list[AuditEvent]:
    """The scope revokes whose residual-window check is due and not recorded,
    oldest first, at most ``limit``: revokes after which the app's refresh
    tokens were revoked (a successful ``tokens_revoke`` row names the revoke),
    whose window ended ``CHECK_GRACE_SECONDS`` or more before ``now``, and
    without a ``token_window_check`` row. Each is returned with its ``app``.
    Two queries."""
    now = now or timezone.now()
    seqs = {
        detail.get("after_revoke_seq")
        for detail in AuditEvent.objects.filter(
            action="tokens_revoke", outcome="success"
        ).values_list("detail", flat=True)
    }
    checked = AuditEvent.objects.filter(
        event_key=Concat(
            Value(CHECK_KEY_PREFIX), Cast(OuterRef("seq"), output_field=CharField())
        )
    )
    return list(
        AuditEvent.objects.filter(
            seq__in=[s for s in seqs if isinstance(s, int)],
            action="revoke",
            outcome="success",
            app__isnull=False,
            created_at__lte=now - lifetime() - timedelta(seconds=CHECK_GRACE_SECONDS),
        )
        .exclude(Exists(checked))
        .select_related("app")
        .order_by("seq")[:limit]
    )


def _names_app(event: LogEvent, app: OktaApp) -> bool:
    ids = {app.okta_id, app.client_id} - {""}
    return event.actor_id in ids or any(t.id in ids for t in event.targets)


def check_token_window(
    *, client: OktaClient, app: OktaApp, revoke: AuditEvent
) -> AuditEvent:
    """Record whether Okta issued the app a token carrying the scope revoked by
    ``revoke`` since that revoke: a ``token_window_check`` row, outcome
    "success" with "closed: no token with the scope issued since HH:MM UTC",
    or "failure" naming the first such event (uuid, time), or "skipped" when
    more than MAX_LOG_PAGES pages of issuance events came back. Idempotent: one row
    per revoke (the first recorded is returned again).

    Reads ``GET /api/v1/logs`` (``okta.logs.read``) filtered to token issuance
    events (``app.oauth2.token.grant*``, the Org AS's) from the revoke on,
    matching the app by the event's actor or targets and the scope by
    ``debugData.grantedScopes``. Raises OktaError for the caller to retry
    (nothing is recorded then).
    """
    since = revoke.created_at
    found: LogEvent | None = None
    following: str | None = None
    complete = False
    for _ in range(MAX_LOG_PAGES):
        page = client.poll_logs(
            following,
            since=since,
            filter=f'eventType sw "{TOKEN_GRANT_EVENTS}"',
        )
        found = next(
            (
                e
                for e in page.events
                if revoke.scope_id in e.granted_scopes and _names_app(e, app)
            ),
            None,
        )
        if found is not None or not page.events:
            complete = True
            break
        following = page.next_url
    since_text = f"{since:%H:%M} UTC"
    if not complete:
        outcome = "skipped"
        detail = {
            "closed": False,
            "verdict": (
                f"not checked: more than {MAX_LOG_PAGES * 1000} token issuance "
                f"events since {since_text}; search the System Log for this app"
            ),
        }
    elif found is None:
        outcome = "success"
        detail = {
            "closed": True,
            "verdict": f"closed: no token with the scope issued since {since_text}",
        }
    else:
        outcome = "failure"
        detail = {
            "closed": False,
            "verdict": (
                f"not closed: a token with the scope was issued at "
                f"{found.published:%Y-%m-%d %H:%M:%S} UTC (System Log event "
                f"{found.uuid})"
            ),
            "event_uuid": found.uuid,
            "event_published": found.published.isoformat(),
        }
    return audit.record(
        "token_window_check",
        actor_login="worker",
        app=app,
        scope_id=revoke.scope_id,
        outcome=outcome,
        detail={"after_revoke_seq": revoke.seq, "since": since.isoformat(), **detail},
        key=check_key(revoke),
    )


def record_not_checked(app: OktaApp, revoke: AuditEvent, reason: str) -> AuditEvent:
    """The ``token_window_check`` row (outcome "skipped") of a check Okta would
    not answer: ``reason`` in plain words. Idempotent like
    :func:`check_token_window`."""
    return audit.record(
        "token_window_check",
        actor_login="worker",
        app=app,
        scope_id=revoke.scope_id,
        outcome="skipped",
        detail={
            "after_revoke_seq": revoke.seq,
            "since": revoke.created_at.isoformat(),
            "closed": False,
            "verdict": f"not checked: {reason}",
        },
        key=check_key(revoke),
    )
