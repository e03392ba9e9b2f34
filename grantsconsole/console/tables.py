"""The rows of the console's long tables, as HTML built in Python.

A page of 180 catalog scopes or 40 apps x 30 scope families rendered through
template nodes cost 25-45 ms of CPU per request (profiled: variable lookups,
``{% url %}`` per row, ``format_html`` per cell), which is most of a page under
the load drill (issue 9). These builders do the same in a few
milliseconds: one ``reverse()`` per URL name per table, not per row, and
``html.escape`` on every value that comes from Okta or the database.

The public builders return a :class:`~django.utils.safestring.SafeString` (the
``*_html`` helpers plain ``str`` fragments). Rule of the module: each value that
is not a literal of this file passes through :func:`esc` (or :func:`href`)
exactly once, and :func:`_html` is the only place anything is marked safe.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.urls import (
    NoReverseMatch,
    get_script_prefix,
    get_urlconf,
    resolve,
    reverse,
)
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, slugify

from grantsconsole.grants.models import is_org_issuer

RISK_LABELS = {
    "low": "low risk",
    "medium": "medium risk",
    "high": "high risk",
    "critical": "critical risk",
}
_SENTINEL = "__gc_arg__"
# reverse() quotes path arguments keeping these (django.urls.resolvers). "/" is
# quoted too here, and every console route with an id ends in a literal part, so
# an id that is not a single path segment leads to a 404, never another page.
_PATH_SAFE = "!$&'()*+,;=~:@"


def esc(value: Any) -> str:
    """``value`` as HTML text: ``&<>"'`` escaped; None is ""; a SafeString (HTML
    made by Django or by this module) passes unchanged."""
    if value is None:
        return ""
    if isinstance(value, SafeString):
        return value
    return escape(str(value))


def url_for(name: str) -> Callable[[Any], str]:
    """A fast ``reverse(name, args=[x])`` for a route with one ``str`` argument:
    one real ``reverse()`` per route, URLconf and script prefix in a process,
    then string joins. The result is a path (not yet HTML-escaped). Raises
    ValueError for a route without exactly one ``str`` argument (another
    converter would skip its ``to_url`` here)."""
    return _url_builder(
        name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF
    )


@functools.cache
def _url_builder(name: str, prefix: str, urlconf: Any) -> Callable[[Any], str]:
    try:
        path = reverse(name, args=[_SENTINEL], urlconf=urlconf)
    except NoReverseMatch:
        path = ""
    # resolve() takes the path without the script prefix (SCRIPT_NAME).
    route = resolve("/" + path.removeprefix(prefix), urlconf).route if path else ""
    converters = re.findall(r"<(?:(\w+):)?\w+>", route)
    if converters not in (["str"], [""]):
        raise ValueError(f"url_for({name!r}): the route must take one str argument")
    head, _, tail = path.partition(_SENTINEL)
    return lambda value: head + quote(str(value), safe=_PATH_SAFE) + tail


def href(url: str) -> str:
    """A URL escaped for an HTML attribute."""
    return escape(url)


def link(url: str, text: Any) -> str:
    """``<a href="url">text</a>``, both escaped."""
    return f'<a href="{href(url)}">{esc(text)}</a>'


def utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An aware datetime in UTC as ``2026-11-29 14:05 UTC``; "—" for None."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime(fmt) + " UTC"


def time_html(value: datetime | None) -> str:
    """``<time datetime="…">2026-11-29 14:05 UTC</time>``; "—" for None."""
    if value is None:
        return "—"
    iso = value.astimezone(UTC).isoformat(timespec="seconds")
    return f'<time datetime="{iso}">{utc(value)}</time>'


def risk_html(risk: str, text: str = "") -> str:
    """A badge stating the risk in words (not colour alone); "" for no risk."""
    if not risk:
        return ""
    css = risk if risk in RISK_LABELS else "high"
    return f'<span class="badge risk-{css}">{esc(text or RISK_LABELS.get(risk, risk))}</span>'


def kind_html(kind: str) -> str:
    """A badge for a scope kind (read / manage / self); "" for none."""
    if not kind:
        return ""
    k = esc(kind)
    return f'<span class="badge kind-{k}">{k}</span>'


def _html(text: str) -> SafeString:
    """The project's one ``mark_safe``: ``text`` was built from this module's
    literals and values passed through :func:`esc` (A-14 lint allows only this)."""
    return mark_safe(text)


def _join(parts: Iterable[str]) -> SafeString:
    return _html("".join(parts))


def risk_badge(risk: str, text: str = "") -> SafeString:
    """:func:`risk_html` for templates."""
    return _html(risk_html(risk, text))


def kind_badge(kind: str) -> SafeString:
    """:func:`kind_html` for templates."""
    return _html(kind_html(kind))


def utc_time(value: datetime | None) -> SafeString:
    """:func:`time_html` for templates."""
    return _html(time_html(value))


# --- an app's grant collection ----------------------------------------------------


@functools.cache
def _slug(text: str) -> str:
    return slugify(text)


def grant_groups(
    groups: Iterable[tuple[str, list[Any]]],
    uncatalogued: list[Any],
    editable: bool,
    grant_url: str,
    revoke_url: str,
) -> SafeString:
    """The grant collection table's ``<tbody>`` per resource (a head row with a
    select-all checkbox when ``editable``, then :func:`grant_rows`), and one for
    held scopes the catalog does not know (see ``selectors.GrantCollection``)."""
    out = []
    for resource, rows in groups:
        slug, name = esc(_slug(resource)), esc(resource)
        select_all = (
            f'<input type="checkbox" id="all-{slug}" data-select-group="{slug}" '
            f'aria-label="Select every {name} scope"> '
            if editable
            else ""
        )
        out.append(
            f'<tbody><tr class="group-head"><th colspan="7" scope="rowgroup" '
            f'id="res-{slug}">{select_all}{name}</th></tr>\n'
            f"{grant_rows(rows, editable, grant_url, revoke_url)}</tbody>\n"
        )
    if uncatalogued:
        out.append(
            '<tbody><tr class="group-head"><th colspan="7" scope="rowgroup">'
            "Held, not in the scope catalog</th></tr>\n"
            f"{grant_rows(uncatalogued, editable, grant_url, revoke_url)}</tbody>\n"
        )
    return _join(out)


def grant_rows(
    rows: Iterable[Any], editable: bool, grant_url: str, revoke_url: str
) -> SafeString:
    """The ``<tr>`` of each ``selectors.ScopeRow``: checkbox, scope and description,
    held or not, who granted it (Okta's ``createdBy`` and our record), since when,
    risk, and a grant or revoke button (only when ``editable``)."""
    grant_at, revoke_at = href(grant_url), href(revoke_url)
    out = []
    for row in rows:
        info, grant = row.info, row.grant
        sid = esc(row.scope_id)
        check = ""
        if editable:
            group = esc(_slug(info.resource)) if info else "uncatalogued"
            check = (
                f'<input type="checkbox" name="scope" value="{sid}" '
                f'id="scope-{sid}" data-group="{group}">'
            )
        description = esc(
            info.description
            if info
            else "Not in the catalog: its risk is unknown, so it is treated as high."
        )
        kind = kind_html(info.kind) if info else ""
        by = since = ""
        if grant is not None:
            held = "<strong>granted</strong>"
            okta_by = (
                f'<span class="mono">{esc(grant.created_by_id)}</span> '
                f"({esc(grant.created_by_type or '?')})"
                if grant.created_by_id
                else ""
            )
            our_by = esc(grant.granted_by or "")
            by = okta_by + ("<br>" if okta_by and our_by else "") + our_by
            since = time_html(grant.created or grant.first_seen_at)
            if not is_org_issuer(grant.issuer):
                held += (
                    '<div class="message warning issuer-flag">Issuer '
                    f"<code>{esc(grant.issuer)}</code> is not the org: only the Org "
                    "Authorization Server mints okta.* scopes, so this grant never "
                    "reaches the Okta API. Revoke it and grant the scope again.</div>"
                )
        else:
            held = '<span class="muted nowrap">not granted</span>'
        risk = risk_html(row.risk)
        if risk and info is not None:
            risk += f'<div class="desc">{esc(info.risk_reason)}</div>'
        action = ""
        if editable:
            if grant is not None:
                action = (
                    f'<button type="submit" class="small danger" name="only" '
                    f'value="{sid}" formaction="{revoke_at}" hx-post="{revoke_at}" '
                    f'aria-label="Revoke {sid}">Revoke</button>'
                )
            else:
                action = (
                    f'<button type="submit" class="small" name="only" value="{sid}" '
                    f'formaction="{grant_at}" hx-post="{grant_at}" '
                    f'aria-label="Grant {sid}">Grant</button>'
                )
        marked = ' class="granted"' if grant is not None else ""
        out.append(
            f"<tr{marked}><td>{check}</td>\n"
            f'<td><label for="scope-{sid}"><code>{sid}</code></label> {kind}'
            f'<div class="desc">{description}</div></td>\n<td>{held}</td>\n<td>{by}</td>\n'
            f'<td class="nowrap">{since}</td>\n<td>{risk}</td>\n<td>{action}</td></tr>\n'
        )
    return _join(out)


# --- the scopes overview and the matrix -------------------------------------------


def _holder_links(holders: Any, app_url: Callable[[Any], str]) -> str:
    return ", ".join(
        link(app_url(okta_id), label or okta_id) for okta_id, label in holders.preview
    )


def scope_overview_rows(rows: Iterable[dict]) -> SafeString:
    """The scopes page's ``<tr>`` per catalog scope: ``{"info", "holders",
    "risk"}`` (see ``views.scopes.scopes_list``): the scope, its kind, its risk
    (when above low) and why, how many apps hold it and the first few of them."""
    scope_url, app_url = url_for("scope-detail"), url_for("app-detail")
    out = []
    for row in rows:
        info, holders = row["info"], row["holders"]
        scope_at = href(scope_url(info.name))
        more = (
            f', <a href="{scope_at}">all {esc(holders.count)}</a>'
            if holders.count > len(holders.preview)
            else ""
        )
        risk = risk_html(row["risk"])
        if risk:
            risk += f'<div class="desc">{esc(info.risk_reason)}</div>'
        out.append(
            f'<tr><td><a href="{scope_at}"><code>{esc(info.name)}</code></a></td>\n'
            f"<td>{kind_html(info.kind)}</td>\n"
            f"<td>{risk}</td>\n"
            f'<td class="num">{esc(holders.count)}</td>\n'
            f"<td>{_holder_links(holders, app_url)}{more}</td>\n"
            f'<td class="desc">{esc(info.description)}</td></tr>\n'
        )
    return _join(out)


def uncatalogued_scope_rows(rows: Iterable[tuple[str, Any]]) -> SafeString:
    """The scopes page's ``<tr>`` per held scope the catalog does not know:
    ``(scopeId, Holders)``."""
    scope_url, app_url = url_for("scope-detail"), url_for("app-detail")
    return _join(
        f'<tr><td><a href="{href(scope_url(scope_id))}"><code>{esc(scope_id)}</code>'
        f'</a></td>\n<td></td>\n<td></td>\n<td class="num">{esc(holders.count)}</td>\n'
        f"<td>{_holder_links(holders, app_url)}</td>\n"
        '<td class="desc">Not described by Okta\'s documentation.</td></tr>\n'
        for scope_id, holders in rows
    )


_CELLS = {
    "manage": '<td class="cell-manage">M<span class="visually-hidden">anage</span></td>',
    "read": '<td class="cell-read">R<span class="visually-hidden">ead</span></td>',
    "self": '<td class="cell-self">S<span class="visually-hidden">elf</span></td>',
}
_NO_CELL = '<td class="cell-none"><span class="visually-hidden">none</span>·</td>'


def matrix_rows(rows: Iterable[Any]) -> SafeString:
    """The matrix's ``<tr>`` per ``selectors.MatrixRow``: the app (label cut to
    40 characters), its manage-grant count, and one cell per scope family."""
    app_url = url_for("app-detail")
    out = []
    for row in rows:
        app = row.app
        name = Truncator(app.label or app.okta_id).chars(40)  # as |truncatechars
        cells = "".join("\n" + _CELLS.get(c, _NO_CELL) for c in row.cells)
        out.append(
            f'<tr><th scope="row" class="app">{link(app_url(app.okta_id), name)}</th>\n'
            f"<td>{esc(row.manage_count)}</td>{cells}</tr>\n"
        )
    return _join(out)


# --- apps and audit lists ---------------------------------------------------------


def app_rows(apps: Iterable[Any], app_types: dict[str, str]) -> SafeString:
    """The apps list's ``<tr>`` per app annotated by ``selectors.app_list``
    (``grant_count``, ``manage_count``, ``max_risk``: the riskiest open grant's
    risk, shown beside the grant count; ``synced_at``: "Last synced")."""
    app_url = url_for("app-detail")
    out = []
    for app in apps:
        unreadable = (
            '<br><span class="badge status-failed" '
            f'title="{esc(app.grants_error)}">grants unreadable</span>'
            if app.grants_state == "unknown"
            else ""
        )
        status = (
            '<span class="badge status-removed">removed</span>'
            if app.removed_at
            else f'<span class="badge status-{esc(app.status)}">'
            f"{esc((app.status or '').lower())}</span>"
        )
        # No type or client id: an OIDC app without OAuth client settings.
        kind = app_types.get(app.application_type, app.application_type) or "—"
        risk = risk_html(app.max_risk)
        out.append(
            f"<tr><td>{link(app_url(app.okta_id), app.label or app.okta_id)}"
            f"{unreadable}</td>\n"
            f"<td>{esc(kind)}</td>\n"
            f'<td class="mono">{esc(app.client_id or "—")}</td>\n<td>{status}</td>\n'
            f'<td class="num">{esc(app.grant_count)} {risk}</td>\n'
            f'<td class="num">{esc(app.manage_count)}</td>\n'
            f'<td class="nowrap">{time_html(app.synced_at)}</td>\n'
            f'<td class="nowrap">{time_html(app.last_change_at)}</td></tr>\n'
        )
    return _join(out)


def audit_rows(events: Iterable[Any]) -> SafeString:
    """The audit page's ``<tr>`` per ``AuditEvent``, newest first as given."""
    app_url = url_for("app-detail")
    out = []
    for e in events:
        app = (
            link(app_url(e.app_okta_id), e.app_label or e.app_okta_id)
            if e.app_okta_id
            else ""
        )
        scope = f"<code>{esc(e.scope_id)}</code>" if e.scope_id else ""
        outcome = esc(e.outcome)
        out.append(
            f'<tr><td class="num">{esc(e.seq)}</td>\n'
            f'<td class="nowrap">{time_html(e.created_at)}</td>\n'
            f"<td>{esc(e.action)}</td>\n"
            f'<td><span class="badge outcome-{outcome}">{outcome}</span></td>\n'
            f"<td>{esc(e.actor_login or e.actor_id)}</td>\n<td>{app}</td>\n"
            f'<td>{scope}</td>\n<td class="mono">{esc(e.okta_request_id)}</td></tr>\n'
        )
    return _join(out)


def datalist_options(values: Iterable[str]) -> SafeString:
    """``<option value="…">`` per value, for a ``<datalist>``."""
    return _join(f'<option value="{esc(v)}">' for v in values)
