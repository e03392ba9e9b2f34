"""Test URLconf: the project's routes plus two stand-in console views that use
the public API of grantsconsole.accounts.access the way the console does."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.urls import path
from django.utils.html import escape

from grantsconsole.accounts.access import (
    admin_client,
    require_recent_auth,
    super_admin_required,
    super_admin_write,
)
from grantsconsole.urls import urlpatterns as project_urlpatterns


@super_admin_write
def grant_view(request: HttpRequest) -> HttpResponse:
    """GET: a form. POST: step-up, then grant the scope with the admin's token."""
    if request.method != "POST":
        token = get_token(request)
        return HttpResponse(
            '<!doctype html><html><body><form method="post" action="/test/grant/">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            f'<input name="app_id" value="{escape(request.GET.get("app_id", ""))}">'
            '<input name="scope_id" value="okta.users.manage">'
            '<button type="submit">Grant</button></form></body></html>'
        )
    pending = require_recent_auth(request, request.path, request.POST)
    if pending is not None:
        return pending
    result = admin_client(request).grant_scope(
        request.POST["app_id"], request.POST["scope_id"]
    )
    return JsonResponse({"granted": result.grant.scope_id, "grant_id": result.grant.id})


@super_admin_required
def read_view(request: HttpRequest, app_id: str) -> HttpResponse:
    """Read an app's grant collection with the admin's token."""
    grants = admin_client(request).list_grants(app_id)
    return JsonResponse({"scopes": sorted(g.scope_id for g in grants)})


urlpatterns = [
    *project_urlpatterns,
    path("test/grant/", grant_view),
    path("test/read/<str:app_id>/", read_view),
]
