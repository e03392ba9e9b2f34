"""The grants policy: the version in force and its findings, the editor, the
version history with diffs, accepting a finding's risk, and the drift plan
with "Apply".

Auditors read the policy, its findings and its history; everything else is a
Super Admin's. "Apply" runs the plan through the normal write path, with the
same confirmation (typing the scopeId of a scope the console's or the
worker's own app needs) and step-up as a grant or revoke from the app page.
"""

from __future__ import annotations

import difflib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    auditor_allowed,
    require_recent_auth,
    step_up_notice,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console import confirmations
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.outcomes import describe
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.governance import plans, policies
from grantsconsole.governance.models import PolicyFinding, PolicyVersion
from grantsconsole.governance.policy import PolicyInvalid, Problem
from grantsconsole.grants.models import OktaApp

FINDINGS_SHOWN = 500
STATES = [s.value for s in PolicyFinding.State]


def _page(
    request: HttpRequest,
    *,
    text: str | None = None,
    problems: tuple[Problem, ...] | list[Problem] = (),
    status: int = 200,
) -> HttpResponse:
    """The policy page; ``text`` and ``problems``: a refused edit, shown
    again in the editor with each problem."""
    version = policies.latest()
    state = request.GET.get("state", "open")
    if state not in STATES:
        state = "open"
    counts = dict.fromkeys(STATES, 0)
    counts.update(
        PolicyFinding.objects.order_by()
        .values("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    shown = (
        PolicyFinding.objects.filter(state=state)
        .select_related("app")
        .order_by("rule_id", "app__label", "scope_id")[:FINDINGS_SHOWN]
    )
    context: dict[str, Any] = {
        "version": version,
        "file": policies.load_file(store=False),
        "state": state,
        "tabs": list(counts.items()),
        "findings": shown,
        "more": max(counts[state] - FINDINGS_SHOWN, 0),
        "editor_text": version.text if text is None and version else text or "",
        "problems": problems,
        "accept_max_days": settings.GOVERNANCE_ACCEPT_MAX_DAYS,
    }
    return render_page(
        request, "policy/page.html", context, section="policy", status=status
    )


@require_GET
@auditor_allowed
def policy_page(request: HttpRequest) -> HttpResponse:
    """The policy in force (its text, version and source, the policy file's
    state) and its findings by state (``?state=open|accepted|resolved``);
    for a Super Admin also the editor and "Accept risk"."""
    return _page(request)


@require_POST
@super_admin_write
def policy_save(request: HttpRequest) -> HttpResponse:
    """Save the editor's ``text`` (with an optional ``note``) as the version
    in force. An invalid text is refused (400): the editor shows it again with
    each problem (line, rule, why), and the version in force stays."""
    text = request.POST.get("text", "")
    try:
        version = policies.save_from_console(
            text, actor=actor_of(request), note=request.POST.get("note", "")[:500]
        )
    except PolicyInvalid as exc:
        return _page(request, text=text, problems=exc.problems, status=400)
    messages.success(request, f"Policy v{version.pk} is in force.")
    return redirect("policy")


@require_GET
@auditor_allowed
def policy_versions(request: HttpRequest) -> HttpResponse:
    """Every stored version, newest first (author, source, time, note)."""
    context = {"versions": PolicyVersion.objects.order_by("-pk")[:500]}
    return render_page(request, "policy/versions.html", context, section="policy")


@require_GET
@auditor_allowed
def policy_version(request: HttpRequest, pk: int) -> HttpResponse:
    """One version's text and its unified diff against ``?against=<pk>``
    (default: the version before it)."""
    version = PolicyVersion.objects.filter(pk=pk).first()
    if version is None:
        raise Http404("No such policy version.")
    against_id = request.GET.get("against", "")
    against = (
        PolicyVersion.objects.filter(pk=int(against_id)).first()
        if against_id.isascii() and against_id.isdigit() and len(against_id) < 19
        else PolicyVersion.objects.filter(pk__lt=pk).order_by("-pk").first()
    )
    diff = (
        list(
            difflib.unified_diff(
                against.text.splitlines(),
                version.text.splitlines(),
                f"v{against.pk}",
                f"v{version.pk}",
                lineterm="",
            )
        )
        if against is not None
        else []
    )
    context = {"version": version, "against": against, "diff": diff}
    return render_page(request, "policy/version.html", context, section="policy")


@require_POST
@super_admin_write
def finding_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept a finding's risk (fields ``reason``, ``days``); a refusal says
    why and changes nothing."""
    days = request.POST.get("days", "")
    try:
        policies.accept(
            pk,
            actor=actor_of(request),
            reason=request.POST.get("reason", ""),
            days=int(days) if days.isdigit() and len(days) < 6 else 0,
        )
    except PolicyFinding.DoesNotExist:
        raise Http404("No such finding.") from None
    except ValueError as exc:
        messages.error(request, f"Not accepted: {exc}")
        return redirect("policy")
    messages.success(request, "The finding's risk is accepted.")
    return redirect(f"{reverse('policy')}?state=accepted")


@require_GET
@super_admin_required
def policy_plan(request: HttpRequest) -> HttpResponse:
    """The drift plan: what to grant and revoke to match the policy, in the
    order "Apply" would run it, and as text like ``terraform plan``."""
    plan = plans.make_plan(store=False)
    context = {"plan": plan, "text": plans.render(plan)}
    return render_page(request, "policy/plan.html", context, section="policy")


@require_POST
@super_admin_write
def policy_apply(request: HttpRequest) -> HttpResponse:
    """Apply the plan the admin saw (field ``plan``: its fingerprint; a plan
    that changed since is shown again, 409, nothing written), after a fresh
    Super Admin check on every submit. First the
    confirmation (each step, the step-up note, the typed scopeId of a scope
    the console's or the worker's own app needs); with ``confirm=yes`` the
    step-up when a step's scope asks for one, then the writes."""
    plan = plans.make_plan()
    if not plan.steps or request.POST.get("plan") != plan.fingerprint:
        messages.error(
            request,
            "Nothing applied: the plan changed since you reviewed it. Review it again.",
        )
        context = {"plan": plan, "text": plans.render(plan)}
        return render_page(
            request, "policy/plan.html", context, section="policy", status=409
        )
    apps = OktaApp.objects.in_bulk({s.app_pk for s in plan.steps})
    rows = [
        {
            "step": s,
            "facts": confirmations.app_facts(apps[s.app_pk]),
            "stops": confirmations.stops(apps[s.app_pk], s.scope_id)
            if s.verb == "revoke"
            else "",
        }
        for s in plan.steps
    ]
    needed = [r["step"].scope_id for r in rows if r["stops"]]
    error = ""
    if request.POST.get("confirm") == "yes":
        missing = confirmations.untyped(request.POST, needed)
        if not missing:
            catalog = get_catalog()
            if any(catalog.asks_confirmation(s.scope_id) for s in plan.steps):
                step_up = require_recent_auth(request, request.path, request.POST)
                if step_up is not None:
                    return step_up
            return _apply(request, plan=plan)
        error = confirmations.refusal(
            missing, {r["facts"].own for r in rows if r["stops"]}
        )
    context = {
        "plan": plan,
        "rows": rows,
        "needed": sorted(set(needed)),
        "confirm_error": error,
        **step_up_notice(request),
    }
    return render_page(
        request,
        "policy/confirm_apply.html",
        context,
        section="policy",
        status=400 if error else 200,
    )


def _apply(request: HttpRequest, *, plan: plans.Plan) -> HttpResponse:
    """The writes (the caller checked the role freshly); one result line per step."""
    results = plans.apply(
        plan.steps, client=admin_client(request), actor=actor_of(request)
    )
    lines = [
        (
            r.step,
            describe(r.result, verb=r.step.verb) if r.result is not None else None,
            r.message,
        )
        for r in results
    ]
    context = {"lines": lines, "ok": all(r.ok for r in results)}
    return render_page(request, "policy/applied.html", context, section="policy")
