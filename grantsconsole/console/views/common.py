"""Helpers shared by the console views: the page context and htmx detection."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grantsconsole.accounts.access import okta_identity
from grantsconsole.console import selectors


def is_htmx(request: HttpRequest) -> bool:
    """True for a request sent by htmx (django-htmx middleware sets ``request.htmx``)."""
    return bool(getattr(request, "htmx", False))


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    section: str,
    status: int = 200,
) -> HttpResponse:
    """Render a full console page with the nav ``section`` and the stale banner.

    Adds one query (``selectors.freshness``).
    """
    context = {**context, "section": section, "freshness": selectors.freshness()}
    return render(request, template, context, status=status)


def actor_of(request: HttpRequest) -> tuple[str, str]:
    """(Okta user id, login) of the signed-in admin, for audit rows."""
    return okta_identity(request)
