"""Template helpers for the console: risk and kind badges, UTC times, percentages.

Every helper escapes what it renders (``format_html``); none marks Okta data safe.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify

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


@register.simple_tag
def scope_row(row: Any, editable: bool, grant_url: str, revoke_url: str) -> str:
    """One ``<tr>`` of an app's grant collection (see ``selectors.ScopeRow``).

    Built with ``format_html`` (every value escaped) rather than template nodes:
    the table has a row per catalog scope (~180) and this keeps the page fast.
    """
    info = row.info
    grant = row.grant
    scope_id = row.scope_id
    group = slugify(info.resource) if info else "uncatalogued"
    check = (
        format_html(
            '<input type="checkbox" name="scope" value="{}" id="scope-{}" data-group="{}">',
            scope_id,
            scope_id,
            group,
        )
        if editable
        else ""
    )
    description = (
        info.description
        if info
        else "Not in the scope catalog: Okta's documentation does not describe it."
    )
    kind = kind_badge(info.kind) if info else ""
    held = (
        format_html("<strong>{}</strong>", "granted")
        if grant
        else format_html('<span class="muted nowrap">{}</span>', "not granted")
    )
    by = ""
    since = ""
    if grant is not None:
        okta_by = (
            format_html(
                '<span class="mono">{}</span> ({})',
                grant.created_by_id,
                grant.created_by_type or "?",
            )
            if grant.created_by_id
            else ""
        )
        our_by = grant.granted_by or ""
        by = format_html(
            "{}{}{}",
            okta_by,
            format_html("<br>{}", "") if okta_by and our_by else "",
            our_by,
        )
        since = utc_time(grant.created or grant.first_seen_at)
    risk = risk_badge(row.risk) if row.is_manage else ""
    action = ""
    if editable:
        if grant is not None:
            action = format_html(
                '<button type="submit" class="small danger" name="only" value="{}" '
                'formaction="{}" hx-post="{}" aria-label="Revoke {}">Revoke</button>',
                scope_id,
                revoke_url,
                revoke_url,
                scope_id,
            )
        else:
            action = format_html(
                '<button type="submit" class="small" name="only" value="{}" '
                'formaction="{}" hx-post="{}" aria-label="Grant {}">Grant</button>',
                scope_id,
                grant_url,
                grant_url,
                scope_id,
            )
    return format_html(
        '<tr{}><td>{}</td><td><label for="scope-{}"><code>{}</code></label> {}'
        '<div class="desc">{}</div></td><td>{}</td><td>{}</td>'
        '<td class="nowrap">{}</td><td>{}</td><td>{}</td></tr>\n',
        format_html(' class="{}"', "granted") if grant else "",
        check,
        scope_id,
        scope_id,
        kind,
        description,
        held,
        by,
        since,
        risk,
        action,
    )


@register.filter
def words(key: Any) -> str:
    """A report key as words: "open_grants" → "Open grants"."""
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]
