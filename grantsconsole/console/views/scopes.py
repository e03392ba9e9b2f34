"""The org-wide scope view: who holds each scope, the apps x families matrix, and
granting one scope to several apps (or revoking it from several) in one action.

A bulk write calls the grant/revoke service once per app and shows one result
per app; an unknown scope or app id is a 404 and an empty or tampered selection
a message, both before any Okta call. A bulk revoke is always confirmed first
(and, from the console's or the worker's own app, with the scopeId typed).
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
    step_up_notice,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console import confirmations, presenters, selectors
from grantsconsole.console.catalog import RISK_RANK, get_catalog
from grantsconsole.console.forms import (
    MIN_RISKS,
    SCOPE_ID_RE,
    SelectionError,
    app_selection,
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
from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services import (
    api_services,
    people,
    privilege_sync,
    scope_writes,
)
from grantsconsole.okta.errors import OktaError
from grantsconsole.usage import selectors as usage
from grantsconsole.usage.verdicts import Coverage, clamp_window, judge

# Rows per matrix page the admin may pick; "all" is capped at MATRIX_MAX_ROWS
# (the page says so), past which it pages too: each row is one cell per held
# family, and 1,000 rows already make a page of several megabytes.
MATRIX_SIZES = ("50", "100", "500", "all")
MATRIX_MAX_ROWS = 1000


@require_GET
@super_admin_required
def scopes_list(request: HttpRequest) -> HttpResponse:
    """Every catalog scope (and every held uncatalogued one) with who holds it.

    Filters: ``kind``, ``held=1`` (held by some app), ``risk`` (at least
    medium, high or critical); ``sort=risk`` lists the scopes riskiest first
    (then most held) instead of by resource. Queries: the auth ones, the stale
    banner, the scopes with their first holders, those holders' names.
    """
    catalog = get_catalog()
    held = presenters.holders_by_scope()
    empty = presenters.Holders()
    kind = request.GET.get("kind", "")
    held_only = request.GET.get("held") == "1"
    risk = request.GET.get("risk", "")
    min_rank = RISK_RANK[risk] if risk in dict(MIN_RISKS) else 0
    by_risk = request.GET.get("sort") == "risk"
    groups = []
    for resource, infos in catalog.groups:
        rows = [
            {
                "info": i,
                "holders": held.get(i.name, empty),
                "risk": catalog.risk(i.name),
            }
            for i in infos
            if (not kind or i.kind == kind)
            and (not held_only or i.name in held)
            and RISK_RANK[catalog.risk(i.name)] >= min_rank
        ]
        if rows:
            groups.append((resource, rows))
    if by_risk:
        rows = [row for _, rows in groups for row in rows]
        rows.sort(
            key=lambda r: (-RISK_RANK[r["risk"]], -r["holders"].count, r["info"].name)
        )
        groups = [("Riskiest first", rows)] if rows else []
    unknown = sorted((s, h) for s, h in held.items() if not catalog.knows(s))
    context = {
        "groups": groups,
        "uncatalogued": unknown,
        "kind": kind,
        "held_only": held_only,
        "risk": risk if min_rank else "",
        "min_risks": MIN_RISKS,
        "by_risk": by_risk,
        "total_scopes": len(catalog.by_id),
    }
    return render_page(request, "scopes/list.html", context, section="scopes")


@require_GET
@super_admin_required
def scopes_matrix(request: HttpRequest) -> HttpResponse:
    """Holders x scope families: the strongest access each app (and, on the
    first page, each API service integration) holds per family, coloured and
    labelled by the riskiest scope, each cell a link to that scope on the
    app's page (an integration's: to it on the integrations page); beside
    each, its effective privilege as the apps list shows it.

    Apps with the most manage grants first, ``size`` per page (50, 100, 500 or
    "all": at most ``MATRIX_MAX_ROWS``). Queries: the auth ones, the stale
    banner, one page of apps with their scopes, privilege and the total, the
    integrations.
    """
    size = request.GET.get("size", "")
    size = size if size in MATRIX_SIZES else MATRIX_SIZES[0]
    per_page = MATRIX_MAX_ROWS if size == "all" else int(size)
    number = page_number(request)
    found = api_services.holders()
    page, families, rows = presenters.matrix_page(
        number, per_page, found.integrations if number == 1 else ()
    )
    if page is None:
        return redirect(first_page(request))
    context = {
        "found": found,
        "families": families,
        "rows": rows,
        "page": page,
        "size": size,
        "sizes": MATRIX_SIZES,
        "max_rows": MATRIX_MAX_ROWS,
    }
    return render_page(request, "scopes/matrix.html", context, section="scopes")


def _scope_context(
    scope_id: str, q: str, window: int, **extra: object
) -> dict[str, object]:
    """Everything the scope page shows; three queries (``presenters.scope_apps``
    and the people who granted). Each holder carries ``reach``: what the scope
    lets it do, given its stored admin roles (``privilege_sync.scope_reach``),
    and ``last_use``: its usage of the scope judged over ``window`` days (the
    evidence and the coverage ride on the holders' query).

    Raises Http404 for a malformed scopeId. A well-formed one the catalog does
    not know is shown with a "not in the catalog" warning: Okta judges it.
    """
    if not SCOPE_ID_RE.match(scope_id):
        raise Http404("Unknown scope.")
    catalog = get_catalog()
    apps = presenters.scope_apps(scope_id, q=q)
    seen = Coverage(None, None)
    for app in apps.holders:
        app.reach = privilege_sync.scope_reach(app, scope_id)
        seen = usage.coverage_of(app)
        evidence = usage.evidence_of(app)
        app.last_use = confirmations.LastUse(
            evidence,
            judge(
                scope_id,
                evidence,
                seen,
                window_days=window,
                held_since=app.grant_created or app.grant_seen,
            ),
        )
    return {
        "scope_id": scope_id,
        "info": catalog.get(scope_id),
        "risk": catalog.risk(scope_id),
        "risk_reason": catalog.risk_reason(scope_id),
        "is_manage": catalog.is_manage(scope_id),
        "catalogued": catalog.knows(scope_id),
        "asks_confirmation": catalog.asks_confirmation(scope_id),
        "holders": apps.holders,
        "people": people.directory(
            v for a in apps.holders for v in (a.grant_by, a.grant_creator)
        ),
        "candidates": apps.candidates,
        "candidates_limit": selectors.CANDIDATES,
        "truncated": apps.truncated,
        "q": q,
        "usage": {"window": window, "coverage": seen},
        **extra,
    }


@require_GET
@super_admin_required
def scope_detail(request: HttpRequest, scope_id: str) -> HttpResponse:
    """One scope: the apps holding it, each with its last use of the scope and
    the verdict over ``?window=`` days (30-365, default 90; revoke from
    several), and apps to grant it to.

    Queries: the auth ones, the stale banner, the holders (with their usage),
    the candidates, the people who granted it.
    """
    # PostgreSQL refuses NUL in a string: drop it, as the forms refuse it.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    context = _scope_context(scope_id, q, clamp_window(request.GET.get("window")))
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
    if verb == "grant" and scope_writes.needs_approval(scope_id):
        return ask_approval(request, okta_ids, [scope_id])
    if verb == "revoke":
        refused = _confirm_bulk_revoke(request, scope_id, ordered)
        if refused is not None:
            return refused
    elif catalog.asks_confirmation(scope_id) and request.POST.get("confirm") != "yes":
        context = {
            "scope_id": scope_id,
            "info": catalog.get(scope_id),
            "risk": catalog.risk(scope_id) or "high",
            "risk_reason": catalog.risk_reason(scope_id),
            "uncatalogued": not catalog.knows(scope_id),
            "apps": [confirmations.app_facts(a) for a in ordered],
            **step_up_notice(request),
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


def _confirm_bulk_revoke(
    request: HttpRequest, scope_id: str, apps: list[OktaApp]
) -> HttpResponse | None:
    """None when the revoke of ``scope_id`` from ``apps`` was confirmed
    (``confirm=yes``, and ``typed`` = the scopeId when the console's or the
    worker's own app is among them and needs it); else the confirmation: each
    app with its type, what stops and its last use of the scope (verdict over
    the ``window`` field's days), answered 400 with a message when the
    confirmation came back without the typed scopeId."""
    window = clamp_window(request.POST.get("window"))
    used = confirmations.last_use(
        apps, [scope_id], usage.coverage(), window_days=window
    )
    rows = [
        {
            "facts": confirmations.app_facts(a),
            "stops": confirmations.stops(a, scope_id),
            "last_use": used[(a.okta_id, scope_id)],
        }
        for a in apps
    ]
    owners = {r["facts"].own for r in rows if r["stops"]}
    needed = [scope_id] if owners else []
    error = ""
    if request.POST.get("confirm") == "yes":
        if not confirmations.untyped(request.POST, needed):
            return None
        error = confirmations.refusal(needed, owners)
    context = {
        "scope_id": scope_id,
        "risk": confirmations.stated_risk(scope_id),
        "is_manage": get_catalog().is_manage(scope_id),
        "window": window,
        "rows": rows,
        "needs_typing": bool(needed),
        "confirm_error": error,
    }
    # A risky revoke is stepped up like a grant: say so before Okta asks.
    if get_catalog().asks_confirmation(scope_id):
        context.update(step_up_notice(request))
    status = 400 if error else 200
    if is_htmx(request):
        return render(
            request, "scopes/confirm_bulk_revoke.html#confirm", context, status=status
        )
    return render_page(
        request,
        "scopes/confirm_bulk_revoke.html",
        context,
        section="scopes",
        status=status,
    )


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
            outcomes.append(
                Outcome(
                    app.label,
                    one.ok,
                    one.headline,
                    one.explanation,
                    undo_seq=one.undo_seq,
                    app_okta_id=app.okta_id,
                    refresh_tokens=app.application_type != "service",
                )
            )
        except scope_writes.ApprovalRequired as exc:
            # The same scope for every app: the first one stops them all.
            return ask_approval(request, [a.okta_id for a in apps], exc.scope_ids)
        except OktaError as exc:
            outcomes.append(from_error(app.label, exc, verb=verb))
    title = f"{'Grant' if verb == 'grant' else 'Revoke'} {scope_id}: results per app"
    if is_htmx(request):
        context = _scope_context(
            scope_id,
            "",
            clamp_window(request.POST.get("window")),
            outcomes=outcomes,
            outcome_title=title,
        )
        return render(request, "scopes/detail.html#scope-body", context)
    for outcome in outcomes:
        text = f"{outcome.subject}: {outcome.headline}"
        if outcome.explanation:
            text = f"{text} {outcome.explanation}"
        (messages.success if outcome.ok else messages.error)(request, text)
    return redirect(reverse("scope-detail", args=[scope_id]))


def _bulk_refuse(request: HttpRequest, scope_id: str, message: str) -> HttpResponse:
    context = _scope_context(
        scope_id, "", clamp_window(request.POST.get("window")), form_error=message
    )
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
