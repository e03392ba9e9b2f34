"""The "Unused and reducible" view: every app's least-privilege plan
(``usage.plans``), riskiest first, its exports, and "Apply" of the plans of
the apps selected.

Apply goes through the normal write path: a confirmation listing each app's
steps (with the scopeId typed for a revoke the console's or the worker's own
app needs), the step-up of a risky change, a fresh Super Admin check, then
``scope_writes.write_scopes`` once per step with the signed-in admin's own
token (an intent and a final audit row each). The plans are judged again on
the server when applied: an app whose plan no longer matches the steps
confirmed is not touched. Within an app the steps run in the plan's order
(grant the read twin, then revoke the manage scope) and stop at the first
that fails, so a manage scope is never revoked before its read was granted.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import EmptyPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    step_up_notice,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console import confirmations
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.forms import SelectionError, app_selection
from grantsconsole.console.outcomes import Outcome, describe, from_error
from grantsconsole.console.views.common import (
    actor_of,
    first_page,
    page_number,
    render_page,
)
from grantsconsole.governance import approvals
from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.safe_csv import csv_lines
from grantsconsole.grants.services import scope_writes
from grantsconsole.okta.errors import OktaError
from grantsconsole.usage import plans as usage_plans
from grantsconsole.usage.verdicts import MAX_WINDOW_DAYS, MIN_WINDOW_DAYS, clamp_window

# Each plan is several steps: 25 apps make a page as long as 50 apps elsewhere.
PLANS_PER_PAGE = 25
#: requested-not-granted rows listed (newest denial first)
MISSING_LIMIT = 100
WINDOWS = (30, 60, 90, 180, 365)


@require_GET
@super_admin_required
def unused_list(request: HttpRequest) -> HttpResponse:
    """Every live app with an unused or reducible grant, by risk removed
    (largest first), ``PLANS_PER_PAGE`` per page; then the scopes requested
    and denied ("requested, not granted", at most ``MISSING_LIMIT``).

    ``window``: days, 30-365 (default 90). Queries: the auth ones, the stale
    banner, the coverage, the ranking (when not cached: ``usage.plans``), the
    page's grants with their apps and evidence, the denials.
    """
    window = clamp_window(request.GET.get("window"))
    number = page_number(request)
    org = usage_plans.org_plans(
        window_days=window,
        offset=(number - 1) * PLANS_PER_PAGE,
        limit=PLANS_PER_PAGE,
        cached=True,
    )
    seen = org.seen
    try:
        page = Paginator(range(org.total_apps), PLANS_PER_PAGE).page(number)
    except EmptyPage:
        return redirect(first_page(request))
    context = {
        "org": org,
        "rows": [
            {
                "plan": p,
                "steps": [(s, confirmations.stated_risk(s.scope_id)) for s in p.steps],
            }
            for p in org.plans
        ],
        "page": page,
        "window": window,
        "windows": sorted({*WINDOWS, window}),
        "min_window": MIN_WINDOW_DAYS,
        "max_window": MAX_WINDOW_DAYS,
        "coverage_days": seen.days(),
        "complete": seen.covers(window),
        "missing": usage_plans.missing(
            window_days=window, limit=MISSING_LIMIT, seen=seen
        ),
        "missing_limit": MISSING_LIMIT,
    }
    return render_page(request, "usage/unused.html", context, section="unused")


@require_GET
@super_admin_required
def plans_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every app's plan over ``window`` as CSV (one row per step, in the order
    the steps run, ``usage.plans.EXPORT_COLUMNS``) or JSON
    (``usage.plans.as_json``)."""
    if fmt not in ("csv", "json"):
        raise Http404("Unknown export format.")
    window = clamp_window(request.GET.get("window"))
    org = usage_plans.org_plans(window_days=window, limit=None)
    if fmt == "json":
        response = HttpResponse(
            json.dumps(usage_plans.as_json(org), indent=2, sort_keys=True),
            content_type="application/json",
        )
    else:
        response = HttpResponse(
            "".join(csv_lines(usage_plans.export_rows(org))),
            content_type="text/csv; charset=utf-8",
        )
    name = f"least-privilege-plans-{window}d"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _confirmed(request: HttpRequest, app: OktaApp) -> list[str]:
    """The step keys ("grant okta.x.read") confirmed for ``app``."""
    return request.POST.getlist(f"steps-{app.okta_id}")


@require_POST
@super_admin_required
def plans_apply(request: HttpRequest) -> HttpResponse:
    """Apply the plans of the apps in ``app`` (repeated; one app's "Apply" or
    the apps selected) over ``window``.

    Without ``confirm=yes``: the confirmation, listing each app's steps.
    With it: the revokes the console's or the worker's own app needs take
    their scopeId typed (``typed``; else the confirmation again, 400,
    nothing written), then the step-up when any step is risky, then
    :func:`_apply`. An empty or tampered selection is a message on the view,
    an unknown app a 404, both before any Okta call.
    """
    window = clamp_window(request.POST.get("window"))
    try:
        okta_ids = app_selection(request.POST)
    except SelectionError as exc:
        messages.error(request, f"Nothing was changed. {exc.message}")
        return redirect(f"{reverse('usage-unused')}?window={window}")
    apps = {
        a.okta_id: a
        for a in OktaApp.objects.filter(okta_id__in=okta_ids, removed_at__isnull=True)
    }
    if len(apps) != len(okta_ids):
        raise Http404("Unknown app.")
    plans = usage_plans.plans_for_apps([apps[i] for i in okta_ids], window_days=window)
    revokes = [
        (p.app, s.scope_id)
        for p in plans
        for s in p.steps
        if s.verb == usage_plans.REVOKE
    ]
    needed = sorted({s for a, s in revokes if confirmations.stops(a, s)})
    if request.POST.get("confirm") != "yes":
        return _confirm(request, plans, window, needed)
    if confirmations.untyped(request.POST, needed):
        owners = {confirmations.own_app(a) for a, s in revokes if s in needed}
        error = confirmations.refusal(needed, owners)
        return _confirm(request, plans, window, needed, error=error)
    catalog = get_catalog()
    if any(catalog.asks_confirmation(s.scope_id) for p in plans for s in p.steps):
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    return _apply(request, plans=plans, window=window)


def _confirm(
    request: HttpRequest,
    plans: list[usage_plans.AppPlan],
    window: int,
    needed: list[str],
    *,
    error: str = "",
) -> HttpResponse:
    catalog = get_catalog()
    rows = [
        {
            "plan": p,
            "facts": confirmations.app_facts(p.app),
            "steps": [
                {
                    "step": s,
                    "risk": confirmations.stated_risk(s.scope_id),
                    "stops": confirmations.stops(p.app, s.scope_id)
                    if s.verb == usage_plans.REVOKE
                    else "",
                }
                for s in p.steps
            ],
        }
        for p in plans
    ]
    context = {
        "rows": rows,
        "window": window,
        "needed": needed,
        "confirm_error": error,
        "nothing": not any(p.steps for p in plans),
    }
    if any(catalog.asks_confirmation(s.scope_id) for p in plans for s in p.steps):
        context.update(step_up_notice(request))
    return render_page(
        request,
        "usage/confirm_apply.html",
        context,
        section="unused",
        status=400 if error else 200,
    )


def _request_opened(app: OktaApp, scope_ids: list[str], actor) -> Outcome:
    """The outcome of a plan step whose grant needs approval: the requests
    opened for it (nothing was sent to Okta), or why none could be."""
    try:
        opened = approvals.request_for_plan(
            app, scope_ids, actor, "the least-privilege plan"
        )
    except approvals.RequestRefused as exc:
        return Outcome(app.label, False, "Not done.", str(exc))
    return Outcome(
        app.label,
        False,
        "Waiting for approval: request "
        + ", ".join(f"#{r.pk}" for r in opened)
        + " opened.",
        "A second Super Admin approves it on the Requests page; nothing was "
        "sent to Okta.",
    )


@super_admin_write
def _apply(
    request: HttpRequest, *, plans: list[usage_plans.AppPlan], window: int
) -> HttpResponse:
    """Each app's steps in order through ``scope_writes.write_scopes`` (the
    path single and bulk writes take), stopping the app's plan at the first
    step that fails; one message per step, and one for the steps not run."""
    actor = actor_of(request)
    client = admin_client(request)
    outcomes: list[Outcome] = []
    for plan in plans:
        label = plan.app.label or plan.app.okta_id
        if _confirmed(request, plan.app) != plan.step_keys:
            outcomes.append(
                Outcome(
                    label,
                    False,
                    "Not done: its plan changed since you confirmed it.",
                    "Nothing was sent to Okta for this app; review its plan again.",
                )
            )
            continue
        for index, step in enumerate(plan.steps):
            try:
                result = scope_writes.write_scopes(
                    step.verb,
                    client=client,
                    app=plan.app,
                    scope_ids=[step.scope_id],
                    actor=actor,
                )[0]
                one = describe(result, verb=step.verb)
            except OktaError as exc:
                one = from_error(step.scope_id, exc, verb=step.verb)
            except scope_writes.ApprovalRequired as gated:
                # The grant waits for a second Super Admin; so does the rest.
                one = _request_opened(plan.app, gated.scope_ids, actor)
            outcomes.append(
                Outcome(f"{label}: {step.key}", one.ok, one.headline, one.explanation)
            )
            if not one.ok:
                rest = plan.steps[index + 1 :]
                if rest:
                    outcomes.append(
                        Outcome(
                            label,
                            False,
                            "Not run: "
                            + ", then ".join(s.key for s in rest)
                            + ", because an earlier step of this app's plan did not go through.",
                        )
                    )
                break
    if not outcomes:
        messages.info(request, "Nothing was changed: no plan had a step to apply.")
    for outcome in outcomes:
        text = f"{outcome.subject}: {outcome.headline}"
        if outcome.explanation:
            text = f"{text} {outcome.explanation}"
        (messages.success if outcome.ok else messages.error)(request, text)
    return redirect(f"{reverse('usage-unused')}?window={window}")
