"""Template tags for compensating controls: an app's (credentials, network and
their one-line summary) and the org's public-client admin setting. Both read
what the last full sync stored (``grants.services.controls``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from grantsconsole.grants.models import OktaApp
from grantsconsole.grants.services import controls as services

register = template.Library()


@register.simple_tag
def app_controls(app: OktaApp) -> dict[str, Any]:
    """``{"controls": AppControls or None, "summary": ControlsSummary}`` for
    ``app`` (``OktaApp.stored``: no query when the app was read with it),
    worked out once per app object, however many partials ask."""
    cached = getattr(app, "_controls_view", None)
    if cached is None:
        row = app.stored("controls")
        cached = {"controls": row, "summary": services.summarize(row, timezone.now())}
        app._controls_view = cached
    return cached


@register.simple_tag
def client_privileges() -> dict[str, Any]:
    """``{"setting": OrgSetting or None, "flag": the warning when it is on}``."""
    row = services.client_privileges_setting()
    return {
        "setting": row,
        "flag": services.CLIENT_PRIVILEGES_FLAG if row and row.enabled else "",
    }
