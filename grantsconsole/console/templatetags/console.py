"""Template helpers for the console: risk and kind badges, UTC times, percentages.

Every helper escapes what it renders (``format_html`` or ``tables.esc``); none
marks Okta data safe.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

from grantsconsole.console import tables

register = template.Library()


@register.filter
def utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in UTC (``"—"`` for None), e.g. 2026-11-29 14:05."""
    return tables.utc(value, fmt)


@register.filter
def isotime(value: Any) -> str:
    """An ISO-8601 string (as stored in report data) shown like ``utc``; the text
    itself when it does not parse."""
    if not value:
        return "—"
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return utc(parsed)


# Badges, times and whole table bodies, built in Python (see console/tables.py).
for _builder in (
    tables.risk_badge,
    tables.kind_badge,
    tables.utc_time,
    tables.grant_groups,
    tables.scope_overview_rows,
    tables.uncatalogued_scope_rows,
    tables.matrix_rows,
    tables.app_rows,
    tables.audit_rows,
    tables.datalist_options,
):
    register.simple_tag(_builder)


@register.filter
def percent(done: Any, total: Any) -> int:
    """``done / total`` as a whole percentage (0 when total is 0)."""
    try:
        d, t = int(done or 0), int(total or 0)
    except (TypeError, ValueError):
        return 0
    return 0 if t <= 0 else min(100, round(100 * d / t))


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


@register.filter
def words(key: Any) -> str:
    """A report key as words: "open_grants" → "Open grants"."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
