"""Console views, one module per page area (apps, scopes, audit, sync, reports),
and the start page."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from grantsconsole.accounts.access import access_of
from grantsconsole.accounts.models import OktaCredential


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/``: the apps list, or the audit for an auditor (each page checks
    access itself; this only picks the first page). Not signed in: the sign-in
    page, coming back here, so the first page fits whoever signs in."""
    if not request.user.is_authenticated:
        return redirect_to_login("/")
    if access_of(request) == OktaCredential.AUDITOR:
        return redirect("audit-list")
    return redirect("apps-list")
