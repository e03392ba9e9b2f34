"""OIN API service integrations: the list (with secrets' ages) and removal.

Removing one is Okta's ``DELETE /integrations/api/v1/api-services/{id}``, which
also revokes every scope it holds, sent with the signed-in admin's own token.
It asks what a revoke asks: a confirmation naming the scopes, the
integration's name typed in (it takes all of its scopes at once), a recent
sign-in at Okta (step-up), a fresh Super Admin check, and leaves an intent row
and a final row in the audit (``services.api_services.remove_api_service``).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    step_up_notice,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.outcomes import from_error
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.grants.models import ApiServiceIntegration
from grantsconsole.grants.services import api_services, people
from grantsconsole.okta import OktaError


def _secret_rows(row: ApiServiceIntegration) -> list[dict[str, object]]:
    """Each stored secret with its age in whole days (None when Okta gave no date)."""
    now = timezone.now()
    out = []
    for s in row.secrets:
        created = datetime.fromisoformat(s["created"]) if s.get("created") else None
        out.append(
            {
                "status": s.get("status", ""),
                "created": created,
                "age_days": (now - created).days if created else None,
            }
        )
    return out


def _scope_rows(row: ApiServiceIntegration) -> list[dict[str, object]]:
    catalog = get_catalog()
    return [
        {"id": s, "risk": catalog.risk(s), "known": catalog.knows(s)}
        for s in row.granted_scopes
    ]


@require_GET
@super_admin_required
def integrations_list(request: HttpRequest) -> HttpResponse:
    """Every integration seen (present ones first), its scopes with their risk,
    who authorized it (by the people directory) and when, and its secrets' ages.

    Queries: the auth ones, the stale banner, the integrations, the read state,
    the people who authorized them.
    """
    rows = list(ApiServiceIntegration.objects.order_by("removed_at", "name"))
    for row in rows:
        row.scope_rows = _scope_rows(row)
        row.secret_rows = _secret_rows(row)
    context = {
        "rows": rows,
        "state": api_services.read_state(),
        "people": people.directory(r.created_by_id for r in rows),
    }
    return render_page(request, "integrations/list.html", context, section="apps")


def _confirm(
    request: HttpRequest, row: ApiServiceIntegration, *, error: str = ""
) -> HttpResponse:
    context = {
        "row": row,
        "scopes": _scope_rows(row),
        "confirm_error": error,
        **step_up_notice(request),
    }
    return render_page(
        request,
        "integrations/confirm_remove.html",
        context,
        section="apps",
        status=400 if error else 200,
    )


@require_POST
@super_admin_required
def integration_remove(request: HttpRequest, okta_id: str) -> HttpResponse:
    """Remove one integration (``POST``): first the confirmation; with
    ``confirm=yes`` and its name typed into ``typed``, a step-up when due, then
    the removal (else the confirmation again with a message, 400, nothing
    written)."""
    row = get_object_or_404(
        ApiServiceIntegration, okta_id=okta_id, removed_at__isnull=True
    )
    if request.POST.get("confirm") != "yes":
        return _confirm(request, row)
    expected = row.name or row.okta_id
    if request.POST.get("typed", "").strip() != expected:
        return _confirm(
            request,
            row,
            error=f"Type the integration's name, {expected}, to remove it.",
        )
    step_up = require_recent_auth(request, request.path, request.POST)
    if step_up is not None:
        return step_up
    return _remove(request, row=row)


@super_admin_write
def _remove(request: HttpRequest, *, row: ApiServiceIntegration) -> HttpResponse:
    subject = row.name or row.okta_id
    try:
        final = api_services.remove_api_service(
            admin_client(request), row, actor_of(request)
        )
    except OktaError as exc:
        outcome = from_error(subject, exc, verb="removal")
        messages.error(request, f"{subject}: {outcome.headline} {outcome.explanation}")
    else:
        if final.detail.get("already_gone"):
            messages.success(request, f"{subject}: already gone from Okta.")
        else:
            messages.success(
                request,
                f"{subject}: removed; Okta revoked its scopes "
                f"({', '.join(row.granted_scopes) or 'none'}).",
            )
    return redirect("integrations-list")
