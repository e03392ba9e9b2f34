"""Helpers shared by the console views: the page context and htmx detection."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grantsconsole.accounts.access import okta_identity
from grantsconsole.console import presenters, selectors
from grantsconsole.grants.audit import Actor
from grantsconsole.okta_clients import worker_auth_kind


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
    freshness: presenters.Freshness | None = None,
) -> HttpResponse:
    """Render a full console page with the nav ``section`` and the stale banner.

    Pass ``freshness`` when a page query already carried it; otherwise it costs
    one query (``selectors.page_status``).
    """
    if freshness is None:
        freshness = presenters.freshness_of(selectors.page_status(request.user.pk))
    context = {
        **context,
        "section": section,
        "freshness": freshness,
        "legacy_ssws": _legacy_ssws(),
    }
    return render(request, template, context, status=status)


def _legacy_ssws() -> bool:
    """True when the worker reads Okta with the legacy SSWS API token (no query)."""
    try:
        return worker_auth_kind() == "ssws"
    except ImproperlyConfigured:
        return False


def actor_of(request: HttpRequest) -> Actor:
    """The signed-in admin (Okta user id and login), for audit rows."""
    okta_user_id, login = okta_identity(request)
    return Actor(actor_id=okta_user_id, login=login)


# Far past any real list's last page (an empty page), and small enough that the
# row offset (page x page size) stays inside a 64-bit SQL integer.
MAX_PAGE = 1_000_000


def page_number(request: HttpRequest) -> int:
    """The ``page`` query parameter as an int in 1..``MAX_PAGE`` (1 when absent
    or invalid; a larger number is ``MAX_PAGE``, an empty page)."""
    try:
        return min(max(int(request.GET.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        return 1


def first_page(request: HttpRequest) -> str:
    """The current URL with ``page`` removed (page 1)."""
    query = request.GET.copy()
    query.pop("page", None)
    return f"{request.path}?{query.urlencode()}" if query else request.path
