"""Template context for every page: what the signed-in person may open."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from grantsconsole.accounts.access import access_of


def access(request: HttpRequest) -> dict[str, object]:
    """``console_access``: ``"super_admin"``, ``"auditor"`` or ``""`` (not signed
    in), for the nav only (every view checks on the server); ``auditor_roles``
    and ``auditor_group``: who counts as an auditor, for the refusal page."""
    return {
        "console_access": access_of(request),
        "auditor_roles": settings.ACCOUNTS_AUDITOR_ROLES,
        "auditor_group": settings.ACCOUNTS_AUDITOR_GROUP,
    }
