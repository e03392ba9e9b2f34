"""Apps list, one app's grant collection, grant / revoke / refresh of one app.

Reads come from the database (``console.selectors``, shaped by
``console.presenters``). Grant, revoke and refresh call Okta through
``grants.services.scope_writes`` and ``.app_sync`` with the signed-in admin's
own token (``accounts.access.admin_client``), after every check that needs no
Okta call: unknown app or scope → 404, an empty or tampered selection → a
message, a ``manage`` scope → a confirmation stating its risk first.

With htmx (``HX-Request``) a write answers with the refreshed grant collection
(and the history, out of band) to swap in place; without JavaScript the same
forms post normally and the view redirects back to the app page with one
message per scope (post/redirect/get).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    step_up_notice,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console import presenters, selectors
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.forms import (
    APP_STATUSES,
    APP_TYPES,
    AppFilterForm,
    SelectionError,
    scope_selection,
)
from grantsconsole.console.outcomes import Outcome, describe, from_error
from grantsconsole.console.views.common import (
    actor_of,
    first_page,
    is_htmx,
    page_number,
    render_page,
)
from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services import app_sync, scope_writes
from grantsconsole.okta.errors import OktaError

APPS_PER_PAGE = 50


@require_GET
@super_admin_required
def apps_list(request: HttpRequest) -> HttpResponse:
    """Every OIDC app with grant counts; search, filters, sort, pages of 50.

    Queries: the auth ones, the stale banner, one page of rows with the total.
    """
    form = AppFilterForm(request.GET or None)
    filters = form.to_filters()
    page = presenters.counted_page(
        selectors.app_list(filters), page_number(request), APPS_PER_PAGE
    )
    if page is None:
        return redirect(first_page(request))
    app_types = {key: name for key, name in APP_TYPES if key}
    for app in page.object_list:
        app.max_risk = presenters.risk_of_rank(app.max_risk_rank)
        # No type or client id: an OIDC app without OAuth client settings.
        app.type_label = app_types.get(app.application_type, app.application_type)
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "app_statuses": APP_STATUSES,
        "sorts": _sort_links(filters.sort),
        "scope_ids": sorted(get_catalog().by_id),
    }
    if is_htmx(request) and request.htmx.target == "apps-results":
        response = render(request, "apps/list.html#apps-results", context)
    else:
        response = render_page(request, "apps/list.html", context, section="apps")
    # The same URL answers htmx with a fragment: caches must key on these headers.
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _sort_links(current: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the sort value its header link sets and aria-sort."""
    columns = {
        "label": "label",
        "client_id": "client_id",
        "grants": "-grants",
        "manage": "-manage",
        "synced": "-synced",
        "changed": "-changed",
    }
    links: dict[str, dict[str, str]] = {}
    for column, default in columns.items():
        if current == column:
            links[column] = {"next": f"-{column}", "aria": "ascending"}
        elif current == f"-{column}":
            links[column] = {"next": column, "aria": "descending"}
        else:
            links[column] = {"next": default, "aria": "none"}
    return links


def _app_or_404(
    okta_id: str, *, present: bool = False, with_status: bool = False
) -> OktaApp:
    app = selectors.app_by_okta_id(okta_id, with_status=with_status)
    if app is None or (present and app.removed_at is not None):
        raise Http404("Unknown app.")
    return app


def _show(request: HttpRequest) -> str:
    value = request.POST.get("show") or request.GET.get("show") or "all"
    return value if value in presenters.SHOW_CHOICES else "all"


def _detail_context(app: OktaApp, show: str = "all", **extra: Any) -> dict[str, Any]:
    """The grant collection and the grant history (one query: the grant rows)."""
    rows = list(selectors.app_grants(app))
    return {
        "app": app,
        "show": show,
        "catalog_size": len(get_catalog().by_id),
        "editable": app.removed_at is None,
        "grant_url": reverse("grant-create", args=[app.okta_id]),
        "revoke_url": reverse("grant-revoke", args=[app.okta_id]),
        "collection": presenters.grant_collection(rows, show),
        "history": presenters.grant_history(rows),
        **extra,
    }


@require_GET
@super_admin_required
def app_detail(request: HttpRequest, okta_id: str) -> HttpResponse:
    """One app: its grant collection by resource, grant/revoke forms, history.

    Queries: the auth ones, the app (with the stale-banner facts), its grant
    rows (held and revoked: the collection and the history).
    """
    app = _app_or_404(okta_id, with_status=True)
    return render_page(
        request,
        "apps/detail.html",
        _detail_context(app, _show(request)),
        section="apps",
        freshness=presenters.freshness_of(app),
    )


def _respond_after_write(
    request: HttpRequest, app: OktaApp, outcomes: list[Outcome], *, title: str
) -> HttpResponse:
    """htmx: the refreshed grant collection + history; otherwise messages + redirect."""
    if is_htmx(request):
        return render(
            request,
            "apps/_after_write.html",
            _detail_context(
                app, _show(request), outcomes=outcomes, outcome_title=title
            ),
        )
    for outcome in outcomes:
        text = f"{outcome.subject}: {outcome.headline}"
        if outcome.explanation:
            text = f"{text} {outcome.explanation}"
        (messages.success if outcome.ok else messages.error)(request, text)
    return redirect(reverse("app-detail", args=[app.okta_id]) + "#grant-collection")


def _refuse_selection(request: HttpRequest, app: OktaApp, message: str) -> HttpResponse:
    """The selection was empty or tampered: say so, change nothing (400)."""
    if is_htmx(request):
        return render(
            request,
            "apps/_after_write.html",
            _detail_context(app, _show(request), form_error=message),
            status=400,
        )
    return render_page(
        request,
        "apps/detail.html",
        _detail_context(app, _show(request), form_error=message),
        section="apps",
        status=400,
    )


def _confirm_manage(
    request: HttpRequest, app: OktaApp, scope_ids: list[str]
) -> HttpResponse:
    """Ask before granting any scope rated above low (manage scopes, reads of
    credentials or personal data) or uncatalogued, naming each one's risk, why,
    and its reach (an uncatalogued scope's risk is unknown: asked as if high)."""
    catalog = get_catalog()
    rows = [
        {
            "scope_id": s,
            "info": catalog.get(s),
            "risk": catalog.risk(s) or ("high" if not catalog.knows(s) else ""),
            "risk_reason": catalog.risk_reason(s),
            "is_manage": catalog.is_manage(s),
            "uncatalogued": not catalog.knows(s),
            "asks": catalog.asks_confirmation(s),
        }
        for s in scope_ids
    ]
    context = {
        "app": app,
        "confirm_rows": rows,
        "asked_rows": [r for r in rows if r["asks"]],
        "uncatalogued_rows": [r for r in rows if r["uncatalogued"]],
        "scope_ids": scope_ids,
        **step_up_notice(request),
    }
    if is_htmx(request):
        return render(request, "apps/confirm_grant.html#confirm", context)
    return render_page(request, "apps/confirm_grant.html", context, section="apps")


@require_POST
@super_admin_required
def grant_create(request: HttpRequest, okta_id: str) -> HttpResponse:
    """Grant the selected scopes to the app (``POST``; several at once).

    Form fields: ``scope`` (repeated), ``only`` (one scope) or ``scope_id`` (one
    scope typed by id; any well-formed id, catalogued or not, goes to Okta),
    ``confirm=yes`` once the admin confirmed the risk of any manage or
    uncatalogued scope.
    """
    app = _app_or_404(okta_id, present=True)
    catalog = get_catalog()
    try:
        scope_ids = scope_selection(request.POST)
    except SelectionError as exc:
        return _refuse_selection(request, app, exc.message)
    if any(catalog.asks_confirmation(s) for s in scope_ids):
        if request.POST.get("confirm") != "yes":
            return _confirm_manage(request, app, scope_ids)
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    return _write(request, app=app, scope_ids=scope_ids, verb="grant")


@require_POST
@super_admin_required
def grant_revoke(request: HttpRequest, okta_id: str) -> HttpResponse:
    """Revoke the selected scopes from the app (``POST``; several at once).

    Any well-formed scopeId; one the app does not hold is already gone (success).
    """
    app = _app_or_404(okta_id, present=True)
    catalog = get_catalog()
    try:
        scope_ids = scope_selection(request.POST)
    except SelectionError as exc:
        return _refuse_selection(request, app, exc.message)
    if any(catalog.asks_confirmation(s) for s in scope_ids):
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    return _write(request, app=app, scope_ids=scope_ids, verb="revoke")


@super_admin_write
def _write(
    request: HttpRequest, *, app: OktaApp, scope_ids: list[str], verb: str
) -> HttpResponse:
    """Call the grant or revoke service (fresh role check first, by the decorator)."""
    try:
        results = scope_writes.write_scopes(
            verb,
            client=admin_client(request),
            app=app,
            scope_ids=scope_ids,
            actor=actor_of(request),
        )
        outcomes = [describe(r, verb=verb) for r in results]
    except OktaError as exc:
        outcomes = [from_error(s, exc, verb=verb) for s in scope_ids]
    app.refresh_from_db()
    title = "Grant results" if verb == "grant" else "Revoke results"
    return _respond_after_write(request, app, outcomes, title=title)


@require_POST
@super_admin_required
def app_refresh(request: HttpRequest, okta_id: str) -> HttpResponse:
    """ "Refresh from Okta": read this app's grants again (one grants call)."""
    app = _app_or_404(okta_id, present=True)
    return _refresh(request, app=app)


@super_admin_write
def _refresh(request: HttpRequest, *, app: OktaApp) -> HttpResponse:
    try:
        result = app_sync.refresh_app(
            client=admin_client(request), app=app, actor=actor_of(request)
        )
        outcome = _refresh_outcome(app, result)
    except OktaError as exc:
        outcome = from_error(app.label, exc, verb="refresh")
    app.refresh_from_db()
    return _respond_after_write(request, app, [outcome], title="Refresh from Okta")


def _refresh_outcome(app: OktaApp, result: Any) -> Outcome:
    """Plain words for a ``RefreshResult`` (``change`` and ``error``)."""
    if result.error:
        return Outcome(
            app.label,
            False,
            "Not refreshed: Okta answered with an error.",
            result.error,
        )
    change = result.change
    if change.removed:
        return Outcome(
            app.label, True, "Okta no longer has this app; it is marked removed."
        )
    if not change.added and not change.revoked:
        return Outcome(
            app.label, True, "Refreshed from Okta: the local state was already current."
        )
    parts = []
    if change.added:
        parts.append("held in Okta but not here: " + ", ".join(change.added))
    if change.revoked:
        parts.append("gone from Okta: " + ", ".join(change.revoked))
    return Outcome(
        app.label,
        True,
        "Refreshed from Okta; recorded as changes made outside the console: "
        + "; ".join(parts)
        + ".",
    )
