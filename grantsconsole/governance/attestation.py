"""Attestation campaigns: every critical and high grant, confirmed or revoked
by its app's owner or a Super Admin, by a due date.

A campaign lists the open grants whose scope the catalog rates critical or
high (``ScopeGrant.risk_rank``), each with its app's owner then. An answer is
"confirm" or "revoke", with a comment. A Super Admin's "revoke" runs through
the console's write path (``scope_writes.write_scopes`` with the admin's own
client: intent and final audit rows, Okta's System Log names the admin).
An owner who is not a Super Admin cannot revoke ``okta.*`` scopes in Okta
(only a Super Admin may), so their "revoke" is recorded and queued: the
campaign page puts it in front of the next Super Admin as a one-click revoke.
Every start, answer and close is an audit row. A campaign closes when every
item is answered and no revoke is left waiting.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from grantsconsole.governance import owners
from grantsconsole.governance.attestation_models import (
    AttestationItem,
    AttestationReminder,
    Campaign,
)
from grantsconsole.governance.owners_models import AppOwner
from grantsconsole.grants import audit
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import ScopeGrant
from grantsconsole.grants.safe_csv import csv_lines
from grantsconsole.grants.services import scope_writes
from grantsconsole.okta import OktaClient
from grantsconsole.okta.scopes import RISK_RANK

logger = logging.getLogger(__name__)

#: the lowest catalog risk a campaign asks about
LOWEST_RISK = "high"
COMMENT_LIMIT = 2000


class AnswerRefused(Exception):
    """An answer that cannot be taken; ``str()`` says why in plain words."""


def start_campaign(
    *, trigger: str, actor: Actor | None = None, now: datetime | None = None
) -> Campaign:
    """Start a campaign of every open critical and high grant of present apps,
    due ``settings.ATTESTATION_DUE_DAYS`` from ``now``. Owners are worked out
    first (``owners.refresh_owners``). ``trigger``: "beat" or "console"
    (``actor``: the Super Admin who started it). Writes a ``campaign_started``
    audit row; a campaign with nothing to attest closes at once."""
    now = now or timezone.now()
    owners.refresh_owners()
    with transaction.atomic():
        campaign = Campaign.objects.create(
            started_at=now,
            started_by=actor.name[:300] if actor else "",
            trigger=trigger,
            due_at=now + timedelta(days=settings.ATTESTATION_DUE_DAYS),
        )
        grants = ScopeGrant.objects.filter(
            revoked_at__isnull=True,
            app__removed_at__isnull=True,
            risk_rank__gte=RISK_RANK[LOWEST_RISK],
        ).order_by("app_id", "scope_id")
        by_app = {
            o.app_id: o
            for o in AppOwner.objects.filter(
                app_id__in=grants.values("app_id"), orphaned_at__isnull=True
            )
        }
        items = []
        for grant in grants:
            owner = by_app.get(grant.app_id)
            items.append(
                AttestationItem(
                    campaign=campaign,
                    app_id=grant.app_id,
                    grant=grant,
                    scope_id=grant.scope_id,
                    risk=owners.RISK_WORD[grant.risk_rank],
                    owner_login=owner.login if owner else "",
                    owner_okta_id=owner.okta_user_id if owner else "",
                )
            )
        AttestationItem.objects.bulk_create(items)
        audit.record(
            "campaign_started",
            **(actor or audit.NOBODY).fields,
            detail={
                "campaign": campaign.pk,
                "trigger": trigger,
                "items": len(items),
                "due_at": campaign.due_at.isoformat(),
            },
        )
        _close_if_done(campaign, now)
    return campaign


def campaign_due(now: datetime | None = None) -> bool:
    """Whether the schedule calls for a new campaign: ``ATTESTATION_EVERY_DAYS``
    is set and the last campaign started at least that long ago (or none did)."""
    every = settings.ATTESTATION_EVERY_DAYS
    if every <= 0:
        return False
    now = now or timezone.now()
    last = Campaign.objects.order_by("-started_at").first()
    return last is None or now - last.started_at >= timedelta(days=every)


def start_scheduled_campaign(now: datetime | None = None) -> Campaign | None:
    """Start a campaign (trigger "beat") when :func:`campaign_due`; else None."""
    if not campaign_due(now):
        return None
    return start_campaign(trigger="beat", now=now)


def may_answer(item: AttestationItem, actor: Actor, *, super_admin: bool) -> bool:
    """Whether ``actor`` may answer ``item``: a Super Admin, or the app's owner
    named on the item."""
    return super_admin or owners.is_owner(
        item.owner_login, item.owner_okta_id, actor=actor
    )


def _close_if_done(campaign: Campaign, now: datetime) -> None:
    """Close ``campaign`` (audited) once every item is answered and no revoke
    waits for a Super Admin."""
    if campaign.closed_at is not None:
        return
    pending = campaign.items.filter(decision="") | campaign.items.filter(
        revoke_state__in=(
            AttestationItem.RevokeState.QUEUED,
            AttestationItem.RevokeState.FAILED,
        )
    )
    if pending.exists():
        return
    campaign.closed_at = now
    campaign.save(update_fields=["closed_at"])
    audit.record(
        "campaign_closed",
        detail={"campaign": campaign.pk, "items": campaign.items.count()},
        key=f"campaign_closed:{campaign.pk}",
    )


def answer(
    item: AttestationItem,
    *,
    decision: str,
    comment: str,
    actor: Actor,
    super_admin: bool,
    client: OktaClient | None = None,
) -> AttestationItem:
    """Answer ``item`` with ``decision`` ("confirm" or "revoke") and
    ``comment`` for ``actor``; ``super_admin``: the actor's role was just
    checked with Okta; ``client``: their own Okta client (needed for a Super
    Admin's "revoke").

    "confirm" is recorded. A Super Admin's "revoke" (also of an item an owner
    queued, or whose revoke failed) revokes the scope through
    ``scope_writes.write_scopes``: ``revoke_state`` "done" (or already gone)
    or "failed" with Okta's answer in plain words. An owner's "revoke" is
    queued for a Super Admin. Each answer writes an ``attestation_answer``
    audit row. Raises AnswerRefused when the actor may not answer, the
    decision is unknown, the campaign is closed, or the item is answered
    already (except a queued or failed revoke, which a Super Admin may carry
    out)."""
    if decision not in ("confirm", "revoke"):
        raise AnswerRefused("Answer confirm or revoke.")
    if not may_answer(item, actor, super_admin=super_admin):
        raise AnswerRefused(
            "Only the app's owner or a Super Admin may answer for this grant."
        )
    campaign = item.campaign
    if campaign.closed_at is not None:
        raise AnswerRefused("This campaign is closed.")
    retry = (
        super_admin
        and decision == "revoke"
        and item.revoke_state
        in (AttestationItem.RevokeState.QUEUED, AttestationItem.RevokeState.FAILED)
    )
    if item.decision and not retry:
        raise AnswerRefused(
            f"Already answered: {item.get_decision_display()} by {item.answered_by}."
        )
    comment = comment.strip()[:COMMENT_LIMIT]
    now = timezone.now()
    if not retry:
        item.decision = decision
        item.comment = comment
        item.answered_by = actor.name[:300]
        item.answered_at = now
    detail: dict[str, object] = {
        "campaign": campaign.pk,
        "item": item.pk,
        "decision": decision,
        "comment": comment,
        "owner": item.owner_login,
        "as": "super_admin" if super_admin else "owner",
    }
    if decision == "revoke" and not super_admin:
        item.revoke_state = AttestationItem.RevokeState.QUEUED
        item.revoke_message = "Waiting for a Super Admin to revoke it in Okta."
    elif decision == "revoke":
        if client is None:
            raise AnswerRefused("Sign in again: the console has no Okta client.")
        (result,) = scope_writes.write_scopes(
            "revoke",
            client=client,
            app=item.app,
            scope_ids=[item.scope_id],
            actor=actor,
        )
        item.revoke_state = (
            AttestationItem.RevokeState.DONE
            if result.ok
            else AttestationItem.RevokeState.FAILED
        )
        item.revoke_message = result.message
        item.revoke_audit_seq = result.audit_seq
        detail.update(revoke_ok=result.ok, revoke_audit_seq=result.audit_seq)
        if retry:
            detail["carried_out_for"] = item.answered_by
    item.save()
    audit.record(
        "attestation_answer",
        **actor.fields,
        app=item.app,
        scope_id=item.scope_id,
        outcome="success"
        if item.revoke_state != AttestationItem.RevokeState.FAILED
        else "failure",
        detail=detail,
    )
    _close_if_done(campaign, now)
    return item


def open_items_by_owner() -> dict[str, list[AttestationItem]]:
    """The unanswered items of open campaigns, by owner login (lower case);
    items without an owner are left out (Super Admins answer those)."""
    items = (
        AttestationItem.objects.filter(campaign__closed_at__isnull=True, decision="")
        .exclude(owner_login="")
        .select_related("app", "campaign")
        .order_by("campaign__due_at", "app__label", "scope_id")
    )
    grouped: dict[str, list[AttestationItem]] = defaultdict(list)
    for item in items:
        grouped[item.owner_login.lower()].append(item)
    return grouped


def send_reminders(now: datetime | None = None) -> int:
    """E-mail (Django's mail backend) each owner with unanswered items of an
    open campaign the list of them and their due dates, at most once per owner
    per UTC day (an :class:`AttestationReminder` row per owner and day, made
    before sending; removed again when sending fails, so a later run tries
    again). Owners whose login is not an e-mail address are skipped. Returns
    the number of e-mails sent."""
    now = now or timezone.now()
    today = now.date()
    sent = 0
    for recipient, items in open_items_by_owner().items():
        if "@" not in recipient:
            continue
        try:
            with transaction.atomic():
                reminder = AttestationReminder.objects.create(
                    recipient=recipient, sent_on=today, items=len(items)
                )
        except IntegrityError:
            continue  # already reminded today
        lines = [
            f"- {i.app.label or i.app.okta_id}: {i.scope_id} ({i.risk}), "
            f"due {i.campaign.due_at:%Y-%m-%d %H:%M} UTC"
            + (" (overdue)" if i.campaign.due_at < now else "")
            for i in items
        ]
        try:
            send_mail(
                subject=f"Attestation: {len(items)} Okta API grant(s) to confirm",
                message=(
                    "You own apps that hold critical or high Okta API scopes. "
                    "Confirm that each still needs it, or ask to revoke it, "
                    "on the console's Attestation page:\n\n" + "\n".join(lines)
                ),
                from_email=None,
                recipient_list=[recipient],
            )
        except Exception as exc:  # any mail backend error: retry on a later run
            logger.warning(
                "attestation reminder to %s failed: %s", recipient, type(exc).__name__
            )
            reminder.delete()
            continue
        sent += 1
    return sent


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One item of a campaign report (times aware UTC or None)."""

    app_okta_id: str
    app_label: str
    scope_id: str
    risk: str
    owner: str
    decision: str
    comment: str
    answered_by: str
    answered_at: datetime | None
    revoke_state: str
    revoke_audit_seq: int | None
    overdue: bool


REPORT_COLUMNS = (
    "app_okta_id",
    "app_label",
    "scope_id",
    "risk",
    "owner",
    "decision",
    "comment",
    "answered_by",
    "answered_at",
    "revoke_state",
    "revoke_audit_seq",
    "overdue",
)


def items_of(campaign: Campaign) -> QuerySet[AttestationItem]:
    """The campaign's items with their apps, by app label and scope."""
    return campaign.items.select_related("app").order_by("app__label", "scope_id")


def report_rows(campaign: Campaign, now: datetime | None = None) -> list[ReportRow]:
    """Who answered what when, item by item; ``overdue``: unanswered (or a
    revoke still waiting) after the due date."""
    now = now or timezone.now()
    late = campaign.closed_at is None and campaign.due_at < now
    return [
        ReportRow(
            app_okta_id=i.app.okta_id,
            app_label=i.app.label,
            scope_id=i.scope_id,
            risk=i.risk,
            owner=i.owner_login,
            decision=i.decision,
            comment=i.comment,
            answered_by=i.answered_by,
            answered_at=i.answered_at,
            revoke_state=i.revoke_state,
            revoke_audit_seq=i.revoke_audit_seq,
            overdue=late
            and (
                not i.decision
                or i.revoke_state
                in (
                    AttestationItem.RevokeState.QUEUED,
                    AttestationItem.RevokeState.FAILED,
                )
            ),
        )
        for i in items_of(campaign)
    ]


def _value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def report_as_json(campaign: Campaign) -> str:
    """The campaign and its report rows as JSON (times ISO-8601 UTC)."""
    rows = report_rows(campaign)
    return json.dumps(
        {
            "campaign": campaign.pk,
            "started_at": campaign.started_at.isoformat(),
            "started_by": campaign.started_by,
            "trigger": campaign.trigger,
            "due_at": campaign.due_at.isoformat(),
            "closed_at": _value(campaign.closed_at),
            "items": [{c: _value(getattr(r, c)) for c in REPORT_COLUMNS} for r in rows],
        },
        indent=2,
    )


def report_as_csv(campaign: Campaign) -> str:
    """The report rows as CSV (``safe_csv``: every cell quoted, formulas
    neutralised), a header line first."""
    rows = report_rows(campaign)
    return "".join(
        csv_lines(
            [
                REPORT_COLUMNS,
                *([_value(getattr(r, c)) for c in REPORT_COLUMNS] for r in rows),
            ]
        )
    )
