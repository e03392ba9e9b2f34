"""Apps list, one app's grant collection, grant / revoke / refresh of one app.

Reads come from the database (``console.selectors``, shaped by
``console.presenters``). Grant, revoke and refresh call Okta through
``grants.services.scope_writes`` and ``.app_sync`` with the signed-in admin's
own token (``accounts.access.admin_client``), after every check that needs no
Okta call: unknown app or scope → 404, an empty or tampered selection → a
message, a grant of a risky scope and every revoke → a confirmation first
(``console.confirmations``), and "Undo" only within ``UNDO_WINDOW`` of the
revoke.

With htmx (``HX-Request``) a grant or revoke answers with the refreshed grant
collection (and the history, out of band) to swap in place; without JavaScript
the same forms post normally and the view redirects back to the app page with
one message per scope (post/redirect/get). A refresh re-reads every section of
the page, so it always lands on the whole page (``HX-Redirect`` with htmx).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    step_up_notice,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console import confirmations, presenters, selectors
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.forms import (
    APP_STATUSES,
    APP_TYPES,
    MAX_SELECTION,
    MIN_RISKS,
    AppFilterForm,
    AppViewForm,
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
from grantsconsole.console.views.requests import ask_approval
from grantsconsole.grants.models import AuditEvent, OktaApp
from grantsconsole.grants.services import (
    app_sync,
    app_tokens,
    people,
    privilege_sync,
    scope_writes,
)
from grantsconsole.okta.errors import OktaError
from grantsconsole.usage import selectors as usage

APPS_PER_PAGE = 50
# How long after a revoke its result offers "Undo" (checked from the audit row).
UNDO_WINDOW = timedelta(minutes=10)


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
        "min_risks": MIN_RISKS,
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
        "risk": "-risk",
        "privilege": "-privilege",
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


def _view(request: HttpRequest) -> presenters.AppView:
    """The page's view: from the query string, or a write's hidden fields."""
    data = request.POST if request.method == "POST" else request.GET
    return AppViewForm(data).to_view()


def _detail_context(
    app: OktaApp,
    view: presenters.AppView,
    selected: Sequence[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The grant collection with each held grant's usage (over ``view.window``
    days), the picker when open (``selected`` scopes ticked) and the grant
    history (three queries: the grant rows, the app's usage evidence, and the
    people they name)."""
    rows = list(selectors.app_grants(app))
    collection = presenters.grant_collection(rows, view.show)
    named = (v for g in rows for v in (g.created_by_id, g.granted_by, g.revoked_by))
    return {
        "usage": presenters.grant_usage(app, collection, view.window),
        "people": people.directory(named),
        "app": app,
        "view": view,
        "view_links": view.links(),
        "show": view.show,
        "catalog_size": len(get_catalog().by_id),
        "editable": app.removed_at is None,
        "own_app": presenters.own_app(app.client_id),
        # "single-page (browser)" or "native" for a public client, else None
        "public_client_type": presenters.PUBLIC_CLIENT_TYPES.get(app.application_type),
        "grant_url": reverse("grant-create", args=[app.okta_id]),
        "revoke_url": reverse("grant-revoke", args=[app.okta_id]),
        "collection": collection,
        "picker": presenters.scope_picker(view, set(collection.grants), selected)
        if view.pick and app.removed_at is None
        else None,
        "resources": [resource for resource, _ in get_catalog().groups],
        "picker_kinds": AppViewForm.base_fields["kind"].choices[1:],
        "picker_risks": presenters.PICKER_RISKS,
        "history": presenters.grant_history(rows),
        "privilege": privilege_sync.page_view(
            app, [g.scope_id for g in rows if g.revoked_at is None]
        ),
        **selectors.app_token_facts(app),
        **extra,
    }


@require_GET
@super_admin_required
def app_detail(request: HttpRequest, okta_id: str) -> HttpResponse:
    """One app: the scopes it holds by resource (or ``?show=manage|all``), each
    held one's usage (last issued, last exercised, verdict over ``?window=``
    days, 30-365, default 90) and the scopes it asked for and was denied, the
    "Add scopes" picker (``?pick=1`` with filters ``q``, ``resource``, ``kind``,
    ``risk``; with htmx target ``picker-results`` just its results), grant and
    revoke forms that carry the view, and the history.

    Queries: the auth ones, the app (with the stale-banner facts and the usage
    coverage), its grant rows (held and revoked: the collection and the
    history), its usage evidence, the people they name.
    """
    app = _app_or_404(okta_id, with_status=True)
    view = _view(request)
    # The picker's live filter keeps what was ticked before (repeated ``scope``).
    selected = request.GET.getlist("scope")[:MAX_SELECTION]
    context = _detail_context(app, view, selected)
    if is_htmx(request) and request.htmx.target == "picker-results":
        # the results, and the view fields of the page's other forms (out of band)
        response = render(request, "apps/_picker_results.html", context)
    else:
        response = render_page(
            request,
            "apps/detail.html",
            context,
            section="apps",
            freshness=presenters.freshness_of(app),
        )
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


def _respond_after_write(
    request: HttpRequest, app: OktaApp, outcomes: list[Outcome], *, title: str
) -> HttpResponse:
    """htmx: the refreshed grant collection + history; otherwise messages + redirect."""
    if is_htmx(request):
        return render(
            request,
            "apps/_after_write.html",
            _detail_context(
                app, _view(request), outcomes=outcomes, outcome_title=title
            ),
        )
    for outcome in outcomes:
        text = f"{outcome.subject}: {outcome.headline}"
        if outcome.explanation:
            text = f"{text} {outcome.explanation}"
        (messages.success if outcome.ok else messages.error)(request, text)
    return redirect(
        reverse("app-detail", args=[app.okta_id])
        + _view(request).query
        + "#grant-collection"
    )


def _refuse_selection(request: HttpRequest, app: OktaApp, message: str) -> HttpResponse:
    """The selection was empty or tampered: say so, change nothing (400)."""
    if is_htmx(request):
        return render(
            request,
            "apps/_after_write.html",
            _detail_context(app, _view(request), form_error=message),
            status=400,
        )
    return render_page(
        request,
        "apps/detail.html",
        _detail_context(app, _view(request), form_error=message),
        section="apps",
        status=400,
    )


def _confirm_manage(
    request: HttpRequest,
    app: OktaApp,
    scope_ids: list[str],
    *,
    undo_seq: int | None = None,
) -> HttpResponse:
    """Ask before granting any scope rated above low (manage scopes, reads of
    credentials or personal data) or uncatalogued, naming each one's risk, why,
    and its reach (an uncatalogued scope's risk is unknown: asked as if high).
    With ``undo_seq`` the form posts back to "Undo" of that revoke."""
    catalog = get_catalog()
    rows = [
        {
            "scope_id": s,
            "info": catalog.get(s),
            "risk": confirmations.stated_risk(s),
            "risk_reason": catalog.risk_reason(s),
            "is_manage": catalog.is_manage(s),
            "uncatalogued": not catalog.knows(s),
            "asks": catalog.asks_confirmation(s),
        }
        for s in scope_ids
    ]
    context = {
        "app": app,
        "facts": confirmations.app_facts(app),
        "view": _view(request),
        "confirm_rows": rows,
        "asked_rows": [r for r in rows if r["asks"]],
        "uncatalogued_rows": [r for r in rows if r["uncatalogued"]],
        "scope_ids": scope_ids,
        "confirm_url": reverse(
            "grant-create" if undo_seq is None else "grant-undo", args=[app.okta_id]
        ),
        "undo_seq": undo_seq,
        **step_up_notice(request),
    }
    if is_htmx(request):
        return render(request, "apps/confirm_grant.html#confirm", context)
    return render_page(request, "apps/confirm_grant.html", context, section="apps")


def _confirm_revoke(
    request: HttpRequest, app: OktaApp, scope_ids: list[str], *, error: str = ""
) -> HttpResponse:
    """Ask before any revoke: the app (label, type, who it acts as, whether it
    is the console's or the worker's own), each scope's risk, its last use by
    the app (last issued, last exercised, verdict) and, for a scope the console
    or the worker needs, what stops and a field to type its id. ``error`` (a
    refused confirmation) is shown and answered with 400."""
    view = _view(request)
    used = confirmations.last_use(
        [app], scope_ids, usage.coverage_of(app), window_days=view.window
    )
    rows = [
        {
            "scope_id": s,
            "risk": confirmations.stated_risk(s),
            "stops": confirmations.stops(app, s),
            "is_manage": get_catalog().is_manage(s),
            "last_use": used[(app.okta_id, s)],
        }
        for s in scope_ids
    ]
    context = {
        "app": app,
        "facts": confirmations.app_facts(app),
        "view": view,
        "rows": rows,
        "needed_rows": [r for r in rows if r["stops"]],
        "scope_ids": scope_ids,
        "confirm_error": error,
        "lifetime_minutes": app_tokens.lifetime_minutes(),
    }
    # A risky revoke is stepped up like a grant: say so before Okta asks.
    if any(get_catalog().asks_confirmation(s) for s in scope_ids):
        context.update(step_up_notice(request))
    status = 400 if error else 200
    if is_htmx(request):
        return render(
            request, "apps/confirm_revoke.html#confirm", context, status=status
        )
    return render_page(
        request, "apps/confirm_revoke.html", context, section="apps", status=status
    )


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
    # Asked before the confirmation and step-up: the grant would not run anyway.
    gated = [s for s in scope_ids if scope_writes.needs_approval(s)]
    if gated:
        return ask_approval(request, [app.okta_id], gated)
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
    Every revoke is confirmed first (``confirm=yes``); a scope the console's or
    the worker's own app needs also takes its id typed into a ``typed`` field
    (else: the confirmation again, with a message, 400, nothing written).
    """
    app = _app_or_404(okta_id, present=True)
    catalog = get_catalog()
    try:
        scope_ids = scope_selection(request.POST)
    except SelectionError as exc:
        return _refuse_selection(request, app, exc.message)
    if request.POST.get("confirm") != "yes":
        return _confirm_revoke(request, app, scope_ids)
    needed = [s for s in scope_ids if confirmations.stops(app, s)]
    missing = confirmations.untyped(request.POST, needed)
    if missing:
        error = confirmations.refusal(missing, {confirmations.own_app(app)})
        return _confirm_revoke(request, app, scope_ids, error=error)
    if any(catalog.asks_confirmation(s) for s in scope_ids):
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    return _write(request, app=app, scope_ids=scope_ids, verb="revoke")


def _undoable_revoke(app: OktaApp, data: QueryDict) -> AuditEvent | str:
    """The revoke that "Undo" names (field ``revoke``: the seq of its final
    audit row), or why it cannot be undone. Only a successful revoke of this
    app that removed a grant, at most ``UNDO_WINDOW`` ago by its audit row."""
    seq = data.get("revoke", "")
    event = (
        AuditEvent.objects.filter(
            seq=int(seq), app=app, action="revoke", outcome="success"
        ).first()
        if seq.isdigit() and len(seq) < 19
        else None
    )
    if event is None or event.detail.get("already_gone"):
        return "There is no revoke of this app to undo."
    if timezone.now() - event.created_at > UNDO_WINDOW:
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        return (
            f"Undo is offered for {minutes} minutes after a revoke, and that time "
            f"has passed: grant {event.scope_id} again from the list if the app "
            "needs it."
        )
    return event


@require_POST
@super_admin_write
def grant_undo(request: HttpRequest, okta_id: str) -> HttpResponse:
    """ "Undo" a revoke of this app (``POST``, field ``revoke``: the seq of the
    revoke's final audit row): grant its scope again as an ordinary grant, with
    the same confirmation and step-up a grant asks for, after a fresh Super
    Admin check (first: nothing about the revoke is told to a demoted admin).
    Refused with a message (400, nothing written) when the revoke is unknown,
    removed no grant, or is older than ``UNDO_WINDOW`` (checked here, from the
    audit row)."""
    app = _app_or_404(okta_id, present=True)
    revoke = _undoable_revoke(app, request.POST)
    if isinstance(revoke, str):
        return _refuse_selection(request, app, revoke)
    scope_ids = [revoke.scope_id]
    if get_catalog().asks_confirmation(revoke.scope_id):
        if request.POST.get("confirm") != "yes":
            return _confirm_manage(request, app, scope_ids, undo_seq=revoke.seq)
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    return _send(request, app=app, scope_ids=scope_ids, verb="grant")


def _send(
    request: HttpRequest, *, app: OktaApp, scope_ids: list[str], verb: str
) -> HttpResponse:
    """Call the grant or revoke service. Callers check the role freshly first:
    through ``_write`` (``_send`` behind ``@super_admin_write``) or, as "Undo"
    does, by their own decorator."""
    try:
        results = scope_writes.write_scopes(
            verb,
            client=admin_client(request),
            app=app,
            scope_ids=scope_ids,
            actor=actor_of(request),
        )
        outcomes = [describe(r, verb=verb) for r in results]
    except scope_writes.ApprovalRequired as exc:
        return ask_approval(request, [app.okta_id], exc.scope_ids)
    except OktaError as exc:
        outcomes = [from_error(s, exc, verb=verb) for s in scope_ids]
    app.refresh_from_db()
    title = "Grant results" if verb == "grant" else "Revoke results"
    return _respond_after_write(request, app, outcomes, title=title)


# Grant and revoke: a fresh Super Admin check, then the service call.
_write = super_admin_write(_send)


@require_POST
@super_admin_required
def app_refresh(request: HttpRequest, okta_id: str) -> HttpResponse:
    """ "Refresh from Okta": read again everything the app page shows (its
    grants, admin roles, compensating controls and refresh tokens: see
    ``app_sync.refresh_app``), then back to the whole page, now current (with
    htmx too: ``HX-Redirect``), with the outcome as a message."""
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
    text = f"{outcome.subject}: {outcome.headline}"
    if outcome.explanation:
        text = f"{text} {outcome.explanation}"
    (messages.success if outcome.ok else messages.error)(request, text)
    url = reverse("app-detail", args=[app.okta_id])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _refresh_outcome(app: OktaApp, result: Any) -> Outcome:
    """Plain words for a ``RefreshResult`` (``change``, ``error``, ``not_read``)."""
    if result.error:
        return Outcome(
            app.label,
            False,
            "Not refreshed: Okta answered with an error.",
            result.error + _not_read(result.not_read),
        )
    outcome = _grants_outcome(app, result)
    if not result.not_read:
        return outcome
    return Outcome(
        outcome.subject,
        False,
        outcome.headline,
        _not_read(result.not_read).strip(),
    )


def _not_read(sections: dict[str, str]) -> str:
    """ " Not read this time (…): admin roles: reason; …" or ""."""
    if not sections:
        return ""
    return " Not read this time (the page shows the last known, with the reason): " + (
        "; ".join(f"{name}: {reason}" for name, reason in sections.items())
    )


def _grants_outcome(app: OktaApp, result: Any) -> Outcome:
    """The grants read of a refresh that worked, in plain words."""
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
