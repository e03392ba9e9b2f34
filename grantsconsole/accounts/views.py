"""Pages of the sign-in app: sign in, sign out (RP logout), step-up resume,
console health."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from allauth.account.internal.decorators import login_not_required
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from grantsconsole.accounts import auditing, health, security_events, session
from grantsconsole.accounts.access import admin_client, auditor_allowed
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.console import presenters
from grantsconsole.console.views.common import render_page

PENDING_TTL_SECONDS = 600


def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return ""


@login_not_required
@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page: one POST button that starts the Okta sign-in."""
    next_url = _safe_next(request, request.GET.get("next", ""))
    if request.user.is_authenticated and session.credential_of(request) is not None:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "account/login.html", {"next": next_url})


@require_http_methods(["GET", "POST"])
def sign_out(request: HttpRequest) -> HttpResponse:
    """GET: a confirmation form. POST: revoke and delete the Okta tokens, end the
    Django session, then RP-initiated logout at Okta (``/oauth2/v1/logout`` with
    ``id_token_hint`` and ``post_logout_redirect_uri``) to end the Okta session;
    the sign-in page then says "signed out"."""
    if request.method == "GET":
        return render(request, "account/logout.html")
    cred = session.credential_of(request)
    if cred is not None:
        auditing.record(
            request,
            "sign_out",
            outcome="success",
            actor_id=cred.okta_user_id,
            actor_login=cred.login,
            detail={"reason": "user"},
        )
    id_token = session.end_session(request)
    # Kept in the new, anonymous session; shown on the sign-in page after
    # Okta's redirect back.
    messages.success(
        request, "You are signed out of the console and of your Okta session."
    )
    if not id_token:
        return redirect("account_login")
    params = {
        "id_token_hint": id_token,
        "post_logout_redirect_uri": getattr(
            settings, "OKTA_POST_LOGOUT_REDIRECT_URI", ""
        )
        or request.build_absolute_uri("/"),
    }
    return HttpResponseRedirect(
        f"{settings.OKTA_ORG_URL}/oauth2/v1/logout?{urlencode(params)}"
    )


@require_GET
def step_up_resume(request: HttpRequest) -> HttpResponse:
    """After a step-up sign-in: a form that re-submits the pending action by POST
    (auto-submitted by static JS; a button without JS). One use, 10 minutes."""
    pending = request.session.pop(session.PENDING_ACTION, None)
    cred = session.credential_of(request)
    if (
        not pending
        or cred is None
        or pending.get("okta_user_id") != cred.okta_user_id
        or time.time() - float(pending.get("at", 0)) > PENDING_TTL_SECONDS
        or not str(pending.get("resume_url", "")).startswith("/")
    ):
        messages.info(request, "There was no pending action to continue.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    fields = [
        (name, value)
        for name, values in sorted(pending.get("post", {}).items())
        for value in values
    ]
    return render(
        request,
        "accounts/step_up_resume.html",
        {"resume_url": pending["resume_url"], "fields": fields},
    )


@auditor_allowed
@require_GET
def console_health(request: HttpRequest) -> HttpResponse:
    """Console health: grants, token scopes and what missing scopes disable, and
    the last audit trail verification (with the banners of every page)."""
    cred = session.credential_of(request)
    assert cred is not None  # auditor_allowed
    report = health.console_health(
        admin_client(request),
        cred.scope_set,
        auditor=cred.access == OktaCredential.AUDITOR,
    )
    freshness, verification = presenters.audit_status(request.user.pk)
    return render_page(
        request,
        "accounts/console_health.html",
        {
            "health": report,
            "verification": verification,
            "credential": cred,
            "console_client_id": settings.OKTA_CONSOLE_CLIENT_ID,
        },
        section="health",
        freshness=freshness,
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: Django's 403 page (``templates/403_csrf.html``). A
    write refused for a missing or foreign CSRF token or a bad Origin is a failed
    authorization (ASVS 16.3.2): an ``authz_denied`` audit row when an admin is
    signed in, else a ``csrf`` security event (anyone can send one)."""
    from django.views.csrf import csrf_failure as django_csrf_failure

    cred = session.credential_of(request)
    if cred is None:
        security_events.note(request, "csrf")
    else:
        auditing.record(
            request,
            "authz_denied",
            outcome="denied",
            actor_id=cred.okta_user_id,
            actor_login=cred.login,
            detail={"during": request.method, "reason": "csrf", "csrf": reason[:200]},
        )
    return django_csrf_failure(request, reason=reason)
