"""Two-person approval and grants' end times: the requests page (my requests,
the approvers' queue, grants past their end time), the request form, approve,
deny, and "set end time" on an app's grant.

Every write is a POST with a fresh Super Admin check (``super_admin_write``);
an approval grants through ``governance.approvals`` with the approver's own
token, after the same step-up a risky grant asks for. A refused request or
decision changes nothing and says why (a message, then back to the page).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.console.catalog import get_catalog
from grantsconsole.console.forms import SCOPE_ID_RE
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.governance import approvals, expiry
from grantsconsole.governance.models import GrantRequest
from grantsconsole.grants.models import OktaApp
from grantsconsole.okta.errors import OktaError

# Apps x scopes one request form may ask for (a bulk grant asks for several apps).
MAX_PAIRS = 50
RECENT = 50


def request_url(okta_ids: list[str], scope_ids: list[str]) -> str:
    """The request form prefilled with these apps and scopes."""
    query = urlencode({"app": okta_ids, "scope": scope_ids}, doseq=True)
    return f"{reverse('request-new')}?{query}"


def ask_approval(
    request: HttpRequest, okta_ids: list[str], scope_ids: list[str]
) -> HttpResponse:
    """Send the admin to the request form for a grant the approval gate
    stopped (an ``HX-Redirect`` for htmx); past ``MAX_PAIRS`` apps x scopes
    (the form's URL stays short), to the requests page with a message."""
    if len(okta_ids) * len(scope_ids) > MAX_PAIRS:
        messages.error(
            request,
            "Granting " + ", ".join(scope_ids) + " needs a second Super Admin's "
            f"approval, and one request covers at most {MAX_PAIRS} apps and "
            "scopes: nothing was granted; select fewer.",
        )
        url = reverse("requests-list")
    else:
        messages.info(
            request,
            "Granting "
            + ", ".join(scope_ids)
            + " needs a second Super Admin's approval, so nothing was granted: say "
            "why, and another Super Admin will decide.",
        )
        url = request_url(okta_ids, scope_ids)
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def parse_end_time(value: str) -> datetime | None:
    """A ``datetime-local`` field's value (read as UTC) or None when empty.
    Raises ValueError for anything else."""
    value = value.strip()
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 9999-12-31T23:30-01:00 is past year 9999 in UTC
        raise ValueError("The end time is out of range.") from exc


def _pairs(data: QueryDict) -> tuple[list[OktaApp], list[str]]:
    """The form's apps (present in Okta; 404 for an unknown one) and scopes
    (well-formed scopeIds; 404 otherwise), each distinct and in order."""
    okta_ids = list(dict.fromkeys(v for v in data.getlist("app") if v))
    scope_ids = list(dict.fromkeys(v.strip() for v in data.getlist("scope") if v))
    if len(okta_ids) * len(scope_ids) > MAX_PAIRS:
        raise Http404("Too many apps and scopes in one request.")
    if any(not SCOPE_ID_RE.match(s) for s in scope_ids):
        raise Http404("Unknown scope.")
    found = {
        a.okta_id: a
        for a in OktaApp.objects.filter(okta_id__in=okta_ids, removed_at__isnull=True)
    }
    if len(found) != len(okta_ids):
        raise Http404("Unknown app.")
    return [found[i] for i in okta_ids], scope_ids


def _form_page(
    request: HttpRequest,
    apps: list[OktaApp],
    scope_ids: list[str],
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    catalog = get_catalog()
    context = {
        "apps": apps,
        "scopes": [
            {"scope_id": s, "risk": catalog.risk(s), "info": catalog.get(s)}
            for s in scope_ids
        ],
        "justification": request.POST.get("justification", ""),
        "ends_at": request.POST.get("ends_at", ""),
        "form_error": error,
    }
    return render_page(
        request, "requests/new.html", context, section="requests", status=status
    )


@require_http_methods(["GET", "POST"])
@super_admin_write
def request_new(request: HttpRequest) -> HttpResponse:
    """The request form (``GET ?app=…&scope=…``, each repeatable: prefilled, as
    the approval gate and a denied-scope demand signal link to it) and its
    ``POST``: one request per app and scope, with ``justification``
    (required) and ``ends_at`` (optional, UTC). A pending request that asks
    for the same is kept, not doubled."""
    data = request.POST if request.method == "POST" else request.GET
    apps, scope_ids = _pairs(data)
    if request.method == "GET":
        return _form_page(request, apps, scope_ids)
    if not apps or not scope_ids:
        return _form_page(
            request, apps, scope_ids, error="Name an app and a scope.", status=400
        )
    try:
        ends_at = parse_end_time(request.POST.get("ends_at", ""))
        opened = [
            approvals.open_request(
                app,
                scope_id,
                actor_of(request),
                request.POST.get("justification", ""),
                ends_at,
            )
            for app in apps
            for scope_id in scope_ids
        ]
    except ValueError:
        return _form_page(
            request,
            apps,
            scope_ids,
            error="The end time is not a date and time.",
            status=400,
        )
    except approvals.RequestRefused as exc:
        return _form_page(request, apps, scope_ids, error=exc.message, status=400)
    messages.success(
        request,
        f"Request{'s' if len(opened) > 1 else ''} sent: another Super Admin "
        "approves or denies it below.",
    )
    return redirect("requests-list")


@require_GET
@super_admin_required
def requests_list(request: HttpRequest) -> HttpResponse:
    """The approvers' queue (pending requests of others), my requests and
    their state, grants past their end time (each with a one-click revoke
    through the normal revoke), and the latest decisions."""
    actor = actor_of(request)
    pending = (
        GrantRequest.objects.filter(
            state=GrantRequest.State.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("app")
        .order_by("created_at")
    )
    catalog = get_catalog()
    queue = [r for r in pending if r.requester_id != actor.actor_id]
    for r in queue:
        r.risk = catalog.risk(r.scope_id)
    context = {
        "queue": queue,
        "mine": GrantRequest.objects.filter(requester_id=actor.actor_id)
        .select_related("app")
        .order_by("-created_at")[:RECENT],
        "decided": GrantRequest.objects.exclude(state=GrantRequest.State.PENDING)
        .select_related("app")
        .order_by("-decided_at")[:RECENT],
        "due": expiry.due_grants(),
    }
    return render_page(request, "requests/list.html", context, section="requests")


def _back(request: HttpRequest, text: str, *, ok: bool) -> HttpResponse:
    (messages.success if ok else messages.error)(request, text)
    return redirect("requests-list")


@require_POST
@super_admin_write
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a request (``POST``): after the step-up a risky grant asks
    for, its grant runs with this admin's own token. Refused (nothing
    written) for the requester, a decided or expired request."""
    grant_request = GrantRequest.objects.filter(pk=pk).select_related("app").first()
    if grant_request is None:
        raise Http404("Unknown request.")
    if get_catalog().asks_confirmation(grant_request.scope_id):
        step_up = require_recent_auth(request, request.path, request.POST)
        if step_up is not None:
            return step_up
    try:
        decision = approvals.approve(pk, actor_of(request), admin_client(request))
    except approvals.RequestRefused as exc:
        return _back(request, exc.message, ok=False)
    except OktaError as exc:
        return _back(
            request, f"Not granted, still pending: {exc.explanation}", ok=False
        )
    if decision.ok:  # "Granted <scope> to <app>." names both
        return _back(request, decision.message, ok=True)
    subject = f"{grant_request.app.label}, {grant_request.scope_id}"
    return _back(request, f"{subject}: {decision.message}", ok=False)


@require_POST
@super_admin_write
def request_deny(request: HttpRequest, pk: int) -> HttpResponse:
    """Deny a request (``POST``, optional ``reason``); not by its requester."""
    if not GrantRequest.objects.filter(pk=pk).exists():
        raise Http404("Unknown request.")
    try:
        denied = approvals.deny(pk, actor_of(request), request.POST.get("reason", ""))
    except approvals.RequestRefused as exc:
        return _back(request, exc.message, ok=False)
    return _back(request, f"Denied {denied.scope_id} for {denied.app.label}.", ok=True)


@require_POST
@super_admin_write
def grant_end_time(request: HttpRequest, okta_id: str) -> HttpResponse:
    """Set (``ends_at``, UTC) or clear (empty) the end time of the app's grant
    of ``scope`` (``POST``); back to the app page with a message."""
    app = OktaApp.objects.filter(okta_id=okta_id, removed_at__isnull=True).first()
    scope_id = request.POST.get("scope", "").strip()
    if app is None or not SCOPE_ID_RE.match(scope_id):
        raise Http404("Unknown app or scope.")
    try:
        ends_at = parse_end_time(request.POST.get("ends_at", ""))
        expiry.set_end_time(app, scope_id, ends_at, actor_of(request))
    except ValueError:
        messages.error(request, "The end time is not a date and time.")
    except expiry.EndTimeRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{scope_id} ends at {ends_at:%Y-%m-%d %H:%M} UTC."
            if ends_at
            else f"{scope_id} has no end time now.",
        )
    return redirect(reverse("app-detail", args=[app.okta_id]) + "#grant-collection")
