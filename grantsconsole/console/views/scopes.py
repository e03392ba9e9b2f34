"""The org-wide scope view: who holds each scope, the apps x families matrix, and
granting one scope to several apps (or revoking it from several) in one action.

A bulk write calls the grant/revoke service once per app and shows one result
per app; an unknown scope or app id is a 404 and an empty or tampered selection
a message, both before any Okta call.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console import presenters
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.forms import SCOPE_ID_RE, SelectionError, app_selection
from grantsconsole.console.outcomes import Outcome, describe, from_error
from grantsconsole.console.views.common import (
    actor_of,
    first_page,
    is_htmx,
    page_number,
    render_page,
)
from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services import scope_writes
from grantsconsole.okta.errors import OktaError

MATRIX_PER_PAGE = 40


@require_GET
@super_admin_required
def scopes_list(request: HttpRequest) -> HttpResponse:
    """Every catalog scope (and every held uncatalogued one) with who holds it.

    Queries: the auth ones, the stale banner, the scopes with their first
    holders, those holders' names.
    """
    catalog = get_catalog()
    held = presenters.holders_by_scope()
    empty = presenters.Holders()
    kind = request.GET.get("kind", "")
    held_only = request.GET.get("held") == "1"
    groups = []
    for resource, infos in catalog.groups:
        rows = [
            {
                "info": i,
                "holders": held.get(i.name, empty),
                "risk": catalog.risk(i.name),
            }
            for i in infos
            if (not kind or i.kind == kind) and (not held_only or i.name in held)
        ]
        if rows:
            groups.append((resource, rows))
    unknown = sorted((s, h) for s, h in held.items() if not catalog.knows(s))
    context = {
        "groups": groups,
        "uncatalogued": unknown,
        "kind": kind,
        "held_only": held_only,
        "total_scopes": len(catalog.by_id),
    }
    return render_page(request, "scopes/list.html", context, section="scopes")


@require_GET
@super_admin_required
def scopes_matrix(request: HttpRequest) -> HttpResponse:
    """Apps x scope families: the strongest access each app holds per family.

    Apps with the most manage grants first, 40 per page. Queries: the auth
    ones, the stale banner, one page of apps with their scopes and the total.
    """
    page, families, rows = presenters.matrix_page(page_number(request), MATRIX_PER_PAGE)
    if page is None:
        return redirect(first_page(request))
    context = {"families": families, "rows": rows, "page": page}
    return render_page(request, "scopes/matrix.html", context, section="scopes")


def _scope_context(scope_id: str, q: str, **extra: object) -> dict[str, object]:
    """Everything the scope page shows; two queries (``presenters.scope_apps``).

    Raises Http404 for a malformed scopeId. A well-formed one the catalog does
    not know is shown with a "not in the catalog" warning: Okta judges it.
    """
    if not SCOPE_ID_RE.match(scope_id):
        raise Http404("Unknown scope.")
    catalog = get_catalog()
    apps = presenters.scope_apps(scope_id, q=q)
    return {
        "scope_id": scope_id,
        "info": catalog.get(scope_id),
        "risk": catalog.risk(scope_id),
        "risk_reason": catalog.risk_reason(scope_id),
        "is_manage": catalog.is_manage(scope_id),
        "catalogued": catalog.knows(scope_id),
        "asks_confirmation": catalog.asks_confirmation(scope_id),
        "holders": apps.holders,
        "candidates": apps.candidates,
        "truncated": apps.truncated,
        "q": q,
        **extra,
    }


@require_GET
@super_admin_required
def scope_detail(request: HttpRequest, scope_id: str) -> HttpResponse:
    """One scope: the apps holding it (revoke from several) and apps to grant it to.

    Queries: the auth ones, the stale banner, the holders, the candidates.
    """
    # PostgreSQL refuses NUL in a string: drop it, as the forms refuse it.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    context = _scope_context(scope_id, q)
    if is_htmx(request) and request.htmx.target == "candidates":
        response = render(request, "scopes/detail.html#candidates", context)
    else:
        response = render_page(request, "scopes/detail.html", context, section="scopes")
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _bulk(request: HttpRequest, scope_id: str, verb: str) -> HttpResponse:
    catalog = get_catalog()
    if not SCOPE_ID_RE.match(scope_id):
        raise Http404("Unknown scope.")
    try:
        okta_ids = app_selection(request.POST)
    except SelectionError as exc:
        return _bulk_refuse(request, scope_id, exc.message)
    apps = {
        a.okta_id: a
        for a in OktaApp.objects.filter(okta_id__in=okta_ids, removed_at__isnull=True)
    }
    if len(apps) != len(okta_ids):
        raise Http404("Unknown app.")
    ordered = [apps[i] for i in okta_ids]
    if (
        verb == "grant"
        and catalog.asks_confirmation(scope_id)
        and request.POST.get("confirm") != "yes"
    ):
        context = {
            "scope_id": scope_id,
            "info": catalog.get(scope_id),
            "risk": catalog.risk(scope_id) or "high",
            "risk_reason": catalog.risk_reason(scope_id),
            "uncatalogued": not catalog.knows(scope_id),
            "apps": ordered,
        }
        if is_htmx(request):
            return render(request, "scopes/confirm_bulk.html#confirm", context)
        return render_page(
            request, "scopes/confirm_bulk.html", context, section="scopes"
        )
    if catalog.asks_confirmation(scope_id):
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    return _bulk_write(request, scope_id=scope_id, apps=ordered, verb=verb)


@super_admin_write
def _bulk_write(
    request: HttpRequest, *, scope_id: str, apps: list[OktaApp], verb: str
) -> HttpResponse:
    """One service call per app; one result line per app (its label)."""
    actor = actor_of(request)
    client = admin_client(request)
    outcomes: list[Outcome] = []
    for app in apps:
        try:
            results = scope_writes.write_scopes(
                verb, client=client, app=app, scope_ids=[scope_id], actor=actor
            )
            one = describe(results[0], verb=verb)
            outcomes.append(Outcome(app.label, one.ok, one.headline, one.explanation))
        except OktaError as exc:
            outcomes.append(from_error(app.label, exc, verb=verb))
    title = f"{'Grant' if verb == 'grant' else 'Revoke'} {scope_id}: results per app"
    if is_htmx(request):
        context = _scope_context(scope_id, "", outcomes=outcomes, outcome_title=title)
        return render(request, "scopes/detail.html#scope-body", context)
    for outcome in outcomes:
        text = f"{outcome.subject}: {outcome.headline}"
        if outcome.explanation:
            text = f"{text} {outcome.explanation}"
        (messages.success if outcome.ok else messages.error)(request, text)
    return redirect(reverse("scope-detail", args=[scope_id]))


def _bulk_refuse(request: HttpRequest, scope_id: str, message: str) -> HttpResponse:
    context = _scope_context(scope_id, "", form_error=message)
    if is_htmx(request):
        return render(request, "scopes/detail.html#scope-body", context, status=400)
    return render_page(
        request, "scopes/detail.html", context, section="scopes", status=400
    )


@require_POST
@super_admin_required
def scope_grant_bulk(request: HttpRequest, scope_id: str) -> HttpResponse:
    """Grant ``scope_id`` to every app in ``app`` (repeated); a result per app."""
    return _bulk(request, scope_id, "grant")


@require_POST
@super_admin_required
def scope_revoke_bulk(request: HttpRequest, scope_id: str) -> HttpResponse:
    """Revoke ``scope_id`` from every app in ``app`` (repeated); a result per app."""
    return _bulk(request, scope_id, "revoke")
