"""Attestation: campaigns, their items and report, and the apps whose owner
is gone. Super Admins and auditors read; an owner who signs in as an auditor
answers for their own apps' grants; only a Super Admin starts a campaign or
revokes in Okta."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    access_of,
    admin_client,
    auditor_allowed,
    owner_write,
    refuse_auditor,
    require_recent_auth,
    step_up_notice,
    super_admin_write,
)
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.console import confirmations
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.governance import attestation, owners
from grantsconsole.governance.attestation_models import AttestationItem, Campaign


def _campaign_or_404(campaign_id: int) -> Campaign:
    return get_object_or_404(Campaign, pk=campaign_id)


@require_GET
@auditor_allowed
def attestation_list(request: HttpRequest) -> HttpResponse:
    """Campaigns (newest first, with their answered and open counts), the
    revokes owners asked for that wait for a Super Admin, and the orphaned
    apps (owner deactivated in Okta)."""
    campaigns = Campaign.objects.annotate(
        total=Count("items"), open=Count("items", filter=Q(items__decision=""))
    )[:50]
    queued = (
        AttestationItem.objects.filter(
            revoke_state=AttestationItem.RevokeState.QUEUED,
            campaign__closed_at__isnull=True,
        )
        .select_related("app", "campaign")
        .order_by("answered_at")
    )
    context = {
        "campaigns": campaigns,
        "queued": queued,
        "orphaned": owners.orphaned_owners(),
        "every_days": settings.ATTESTATION_EVERY_DAYS,
        "due_days": settings.ATTESTATION_DUE_DAYS,
        "now": timezone.now(),
    }
    return render_page(
        request, "governance/attestation_list.html", context, section="attestation"
    )


@require_POST
@super_admin_write
def attestation_start(request: HttpRequest) -> HttpResponse:
    """Start a campaign now (a Super Admin)."""
    campaign = attestation.start_campaign(trigger="console", actor=actor_of(request))
    messages.success(
        request,
        f"Campaign #{campaign.pk} started with {campaign.items.count()} grants to "
        "attest.",
    )
    return redirect("attestation-detail", campaign.pk)


@require_GET
@auditor_allowed
def attestation_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """One campaign: every item with its owner and answer, overdue marked, and
    the answer forms of the items the reader may answer."""
    campaign = _campaign_or_404(campaign_id)
    actor = actor_of(request)
    super_admin = access_of(request) == OktaCredential.SUPER_ADMIN
    rows = []
    for item, row in zip(
        attestation.items_of(campaign),
        attestation.report_rows(campaign),
        strict=True,
    ):
        can = campaign.closed_at is None and (
            (
                not item.decision
                and attestation.may_answer(item, actor, super_admin=super_admin)
            )
            or (super_admin and item.revoke_state in ("queued", "failed"))
        )
        rows.append({"item": item, "row": row, "can_answer": can})
    context = {
        "campaign": campaign,
        "rows": rows,
        "super_admin": super_admin,
        "open": sum(1 for r in rows if not r["item"].decision),
        "overdue": sum(1 for r in rows if r["row"].overdue),
    }
    return render_page(
        request, "governance/attestation_detail.html", context, section="attestation"
    )


@require_GET
@auditor_allowed
def attestation_export(
    request: HttpRequest, campaign_id: int, fmt: str
) -> HttpResponse:
    """The campaign report as CSV or JSON (``attestation.report_as_*``)."""
    if fmt not in ("csv", "json"):
        raise Http404("Unknown export format.")
    campaign = _campaign_or_404(campaign_id)
    if fmt == "json":
        response = HttpResponse(
            attestation.report_as_json(campaign), content_type="application/json"
        )
    else:
        response = HttpResponse(
            attestation.report_as_csv(campaign), content_type="text/csv; charset=utf-8"
        )
    name = f"attestation-{campaign.pk}-{campaign.started_at:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _confirm_revoke(
    request: HttpRequest, item: AttestationItem, *, error: str = ""
) -> HttpResponse:
    """Ask before a Super Admin's "revoke" answer, as the app page asks before
    a revoke (the scope's risk, what stops, the step-up note)."""
    context = {
        "item": item,
        "facts": confirmations.app_facts(item.app),
        "risk": confirmations.stated_risk(item.scope_id),
        "stops": confirmations.stops(item.app, item.scope_id),
        "comment": request.POST.get("comment", ""),
        "confirm_error": error,
        **step_up_notice(request),
    }
    return render_page(
        request,
        "governance/attestation_confirm_revoke.html",
        context,
        section="attestation",
        status=400 if error else 200,
    )


@require_POST
@owner_write
def attestation_answer(request: HttpRequest, item_id: int) -> HttpResponse:
    """Answer one item (``decision`` "confirm" or "revoke", ``comment``): its
    app's owner or a Super Admin; anyone else is refused as ``@super_admin_write``
    refuses. A Super Admin's revoke is confirmed first (``confirm=yes``; a scope
    the console or the worker needs also takes its id typed), stepped up like
    any risky revoke, then revoked in Okta with their own token; an owner's is
    queued for a Super Admin."""
    item = (
        AttestationItem.objects.select_related("app", "campaign")
        .filter(pk=item_id)
        .first()
    )
    actor = actor_of(request)
    super_admin = access_of(request) == OktaCredential.SUPER_ADMIN
    # Refused before "no such item": an auditor learns nothing of others' items.
    if not super_admin and (
        item is None or not attestation.may_answer(item, actor, super_admin=False)
    ):
        return refuse_auditor(request)
    if item is None:
        raise Http404("Unknown attestation item.")
    decision = request.POST.get("decision", "")
    client = None
    if decision == "revoke" and super_admin:
        if request.POST.get("confirm") != "yes":
            return _confirm_revoke(request, item)
        needed = [item.scope_id] if confirmations.stops(item.app, item.scope_id) else []
        if confirmations.untyped(request.POST, needed):
            error = confirmations.refusal(needed, {confirmations.own_app(item.app)})
            return _confirm_revoke(request, item, error=error)
        if get_catalog().asks_confirmation(item.scope_id):
            step_up = require_recent_auth(request, request.path, request.POST)
            if step_up is not None:
                return step_up
        client = admin_client(request)
    try:
        item = attestation.answer(
            item,
            decision=decision,
            comment=request.POST.get("comment", ""),
            actor=actor,
            super_admin=super_admin,
            client=client,
        )
    except attestation.AnswerRefused as exc:
        messages.error(request, f"{item.scope_id} on {item.app.label}: {exc}")
    else:
        text = f"{item.scope_id} on {item.app.label}: {item.get_decision_display()}"
        if item.revoke_message:
            text = f"{text}. {item.revoke_message}"
        if item.revoke_state == AttestationItem.RevokeState.FAILED:
            messages.error(request, text)
        else:
            messages.success(request, text)
    return redirect(
        reverse("attestation-detail", args=[item.campaign_id]) + f"#item-{item.pk}"
    )
