"""Template helpers for the console: risk and kind badges, UTC times, percentages.

Every helper escapes what it renders (``format_html``); none marks Okta data safe.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

RISK_LABELS = {
    "low": "low risk",
    "medium": "medium risk",
    "high": "high risk",
    "critical": "critical risk",
}


@register.simple_tag
def risk_badge(risk: str, text: str = "") -> str:
    """``<span class="badge risk-…">`` stating the risk in words (not colour alone)."""
    if not risk:
        return ""
    return format_html(
        '<span class="badge risk-{}">{}</span>',
        risk if risk in RISK_LABELS else "high",
        text or RISK_LABELS.get(risk, risk),
    )


@register.simple_tag
def kind_badge(kind: str) -> str:
    """A small badge for a scope kind (read / manage / self)."""
    if not kind:
        return ""
    return format_html('<span class="badge kind-{}">{}</span>', kind, kind)


@register.filter
def utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in UTC (``"—"`` for None), e.g. 2026-11-29 14:05."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime(fmt) + " UTC"


@register.simple_tag
def utc_time(value: datetime | None) -> str:
    """A ``<time datetime=…>`` element in UTC, or an em dash."""
    if value is None:
        return "—"
    iso = value.astimezone(UTC).isoformat(timespec="seconds")
    return format_html('<time datetime="{}">{}</time>', iso, utc(value))


@register.filter
def percent(done: Any, total: Any) -> int:
    """``done / total`` as a whole percentage (0 when total is 0)."""
    try:
        d, t = int(done or 0), int(total or 0)
    except (TypeError, ValueError):
        return 0
    return 0 if t <= 0 else min(100, round(100 * d / t))


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]`` or "" (for dicts in templates)."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return ""


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return "" if value is None else str(value)


@register.simple_tag
def report_section(value: Any) -> str:
    """Render one report section generically, everything escaped.

    A list of objects → a table (columns: the union of keys, first-seen order);
    a list of scalars → a list; an object → key/value pairs; a scalar → text.
    """
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        columns: list[str] = []
        for row in value:
            columns.extend(k for k in row if k not in columns)
        head = format_html_join("", '<th scope="col">{}</th>', ((c,) for c in columns))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (
                    format_html_join(
                        "", "<td>{}</td>", ((_cell(row.get(c)),) for c in columns)
                    ),
                )
                for row in value
            ),
        )
        return format_html(
            '<div class="table-wrap"><table><thead><tr>{}</tr></thead><tbody>{}</tbody></table></div>',
            head,
            body,
        )
    if isinstance(value, list):
        if not value:
            return format_html("<p>{}</p>", "None.")
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>{}</li>", ((_cell(v),) for v in value)),
        )
    if isinstance(value, dict):
        return format_html(
            '<dl class="facts">{}</dl>',
            format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((k, _cell(v)) for k, v in value.items())
            ),
        )
    return format_html("<p>{}</p>", _cell(value))
