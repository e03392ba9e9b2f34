"""Finishing a revoke: "Revoke this app's refresh tokens", offered on a revoke's
result line (``apps/_tokens_offer.html``).

``POST`` only, Super Admin (checked freshly with Okta on every POST), confirmed
first (a page naming the app, the scope, how many refresh tokens the console
last saw and the residual window), then stepped up like a risky revoke. The
write goes to Okta with the admin's own token
(``grants.services.app_tokens.revoke_refresh_tokens``, audited), and the
System Log check of the residual window is queued for when it ends.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    step_up_notice,
    super_admin_write,
)
from grantsconsole.console import confirmations
from grantsconsole.console.views.apps import _app_or_404, _refuse_selection
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.grants import tasks
from grantsconsole.grants.models import AuditEvent, OktaApp
from grantsconsole.grants.services import app_tokens


@require_POST
@super_admin_write
def tokens_revoke(request: HttpRequest, okta_id: str) -> HttpResponse:
    """Revoke the app's refresh tokens after the revoke named by ``revoke`` (the
    seq of its final audit row), after a fresh Super Admin check (first: nothing
    about the revoke is told to a demoted admin). Without ``confirm=yes``: the
    confirmation page. An unknown revoke is refused (400, nothing written)."""
    app = _app_or_404(okta_id, present=True)
    revoke = app_tokens.scope_revoke(app, request.POST.get("revoke", ""))
    if revoke is None:
        return _refuse_selection(
            request, app, "There is no revoke of this app to finish."
        )
    if request.POST.get("confirm") != "yes":
        return _confirm(request, app, revoke)
    step_up = require_recent_auth(request, request.path, request.POST)
    if step_up is not None:
        return step_up
    return _revoke(request, app=app, revoke=revoke)


def _confirm(request: HttpRequest, app: OktaApp, revoke: AuditEvent) -> HttpResponse:
    context = {
        "app": app,
        "facts": confirmations.app_facts(app),
        "revoke": revoke,
        "window_end": app_tokens.window_end(revoke),
        "lifetime_minutes": app_tokens.lifetime_minutes(),
        "summary": app.stored("refresh_tokens"),
        **step_up_notice(request),
    }
    return render_page(
        request, "apps/confirm_tokens_revoke.html", context, section="apps"
    )


def _revoke(request: HttpRequest, *, app: OktaApp, revoke: AuditEvent) -> HttpResponse:
    result = app_tokens.revoke_refresh_tokens(
        client=admin_client(request), app=app, revoke=revoke, actor=actor_of(request)
    )
    if result.ok:
        wait = (result.window_end - timezone.now()).total_seconds()
        tasks.check_token_window.apply_async(
            args=[revoke.seq],
            countdown=max(0, int(wait)) + app_tokens.CHECK_GRACE_SECONDS,
        )
        messages.success(request, f"{app.label}: {result.message}")
    else:
        messages.error(request, f"{app.label}: {result.message}")
    return redirect(reverse("app-detail", args=[app.okta_id]) + "#refresh-tokens")
