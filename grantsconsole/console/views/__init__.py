"""Console views, one module per page area (apps, scopes, audit, sync, reports),
and the start page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from grantsconsole.accounts.access import access_of
from grantsconsole.accounts.models import OktaCredential


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """``/``: the apps list, or the audit for an auditor (each page checks
    access itself; this only picks the first page)."""
    if access_of(request) == OktaCredential.AUDITOR:
        return redirect("audit-list")
    return redirect("apps-list")
