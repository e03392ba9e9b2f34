"""Template tags that put OIN API service integrations beside apps on the
existing pages (one ``{% load integrations %}`` line and one tag each), each in
one query (``services.api_services.holders``)."""

from __future__ import annotations

from typing import Any

from django import template

from grantsconsole.console.catalog import get_catalog
from grantsconsole.grants.services import api_services

register = template.Library()


def _rows(found: list[api_services.Holder]) -> list[dict[str, Any]]:
    catalog = get_catalog()
    return [
        {
            "holder": h,
            "scopes": [
                {"id": s, "risk": catalog.risk(s), "known": catalog.knows(s)}
                for s in h.scopes
            ],
        }
        for h in found
    ]


@register.inclusion_tag("integrations/_apps_section.html")
def api_service_section() -> dict[str, Any]:
    """The apps list's section: every present integration and its scopes."""
    found = api_services.holders()
    return {"found": found, "rows": _rows(list(found.integrations))}


@register.inclusion_tag("integrations/_scope_holders.html")
def api_service_holders(scope_id: str) -> dict[str, Any]:
    """A scope page's other holders: the integrations granted ``scope_id``."""
    found = api_services.holders()
    return {"found": found, "scope_id": scope_id, "holding": found.holding(scope_id)}


@register.inclusion_tag("integrations/_scope_counts.html")
def api_service_scope_counts() -> dict[str, Any]:
    """The scopes list's second table: per scope, how many integrations hold
    it (not counted in the apps' Holders column)."""
    found = api_services.holders()
    return {"found": found, "counts": found.scope_counts()}
