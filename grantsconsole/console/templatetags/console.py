"""Template helpers for the console: risk and kind badges, UTC times, durations,
audit action names, id URLs, percentages, report sections, people.

Every helper escapes what it renders (``format_html``); none marks Okta data safe.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django import template
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.urls import (
    NoReverseMatch,
    get_script_prefix,
    get_urlconf,
    resolve,
    reverse,
)
from django.utils.html import format_html, format_html_join

from grantsconsole.console import presenters
from grantsconsole.grants.audit import ACTION_NAMES
from grantsconsole.grants.services.people import Directory

register = template.Library()

RISK_LABELS = {
    "low": "low risk",
    "medium": "medium risk",
    "high": "high risk",
    "critical": "critical risk",
}


@register.filter
def utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format an aware datetime in UTC as ``2026-11-29 14:05 UTC``; "—" for None."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime(fmt) + " UTC"


@register.filter
def iso_utc(value: datetime | None) -> str:
    """An aware datetime as ISO 8601 in UTC to the second, ``2026-12-06T18:25:42Z``
    (how the audit, sync and reports pages show times); "—" for None."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@register.filter
def isotime(value: Any) -> str:
    """An ISO-8601 string (as stored in report data and audit details) shown like
    ``iso_utc``; the text itself when it does not parse."""
    if not value:
        return "—"
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return iso_utc(parsed)


@register.simple_tag
def iso_time(value: datetime | None) -> str:
    """``<time datetime="…">2026-12-06T18:25:42Z</time>``; "—" for None."""
    if value is None:
        return "—"
    text = iso_utc(value)
    return format_html('<time datetime="{}">{}</time>', text, text)


@register.filter
def duration(value: timedelta | None) -> str:
    """A duration in words to the second: "45 s", "3 min 05 s", "2 h 01 min"."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def action_name(action: str) -> str:
    """An audit action in words (``audit.ACTION_NAMES``); the code itself when
    it has no name."""
    return ACTION_NAMES.get(action, action)


@register.filter
def okta_event_time(event: Any) -> str:
    """For a change made in Okta outside the console (``external_*`` audit rows),
    when Okta says it happened: the System Log event's ``published`` time
    (``detail.changed_at``), else for a grant Okta's ``created``; "" when Okta
    gave no time (a change only noticed by comparing with Okta)."""
    if not str(getattr(event, "action", "")).startswith("external_"):
        return ""
    detail = getattr(event, "detail", None)
    if not isinstance(detail, dict):
        return ""
    value = detail.get("changed_at") or detail.get("created")
    return isotime(value) if value else ""


@register.simple_tag
def utc_time(value: datetime | None) -> str:
    """``<time datetime="…">2026-11-29 14:05 UTC</time>``; "—" for None."""
    if value is None:
        return "—"
    iso = value.astimezone(UTC).isoformat(timespec="seconds")
    return format_html('<time datetime="{}">{}</time>', iso, utc(value))


@register.simple_tag
def risk_badge(risk: str, text: str = "") -> str:
    """A badge stating the risk in words (not colour alone); "" for no risk. An
    unknown risk is styled as high."""
    if not risk:
        return ""
    css = risk if risk in RISK_LABELS else "high"
    return format_html(
        '<span class="badge risk-{}">{}</span>',
        css,
        text or RISK_LABELS.get(risk, risk),
    )


@register.simple_tag
def privilege_badge(risk: str) -> str:
    """An effective-privilege badge (grants/privilege.py): a risk, or "latent
    risk" (manage scopes, no admin role yet); "" for none."""
    if risk == "latent":
        return format_html('<span class="badge risk-latent">{}</span>', "latent risk")
    return risk_badge(risk)


@register.simple_tag
def privilege_cell(app: Any) -> str:
    """One app's effective-privilege cell (``<td>``) on the apps list, the matrix
    and a scope's holders: a service app's stored assessment (— when it holds no
    manage scope; "roles not read yet" before a sync read them), flagged when it
    can grant itself more or its roles were not readable; a user-facing app with
    manage scopes acts as whoever signs in. A tag, not an included template:
    the holders of a scope render up to 201 of them (13 ms of the page as an
    include at 20,000 apps)."""
    try:
        stored = getattr(app, "privilege", None)
    except ObjectDoesNotExist:  # no row stored yet (joined: no query)
        stored = None
    if stored is not None:
        return format_html(
            "<td>{}{}{}{}</td>",
            privilege_badge(stored.risk) if stored.risk else "",
            "" if stored.risk or stored.error else "—",
            format_html(
                ' <span class="badge risk-critical">{}</span>', "can grant itself more"
            )
            if stored.self_escalation
            else "",
            format_html(
                ' <span class="badge status-failed" title="{}">{}</span>',
                stored.error,
                "roles not readable",
            )
            if stored.error
            else "",
        )
    if app.application_type == "service":
        return format_html(
            '<td><span class="muted">{}</span></td>', "roles not read yet"
        )
    if app.manage_count:
        return format_html(
            '<td><span class="muted">{}</span></td>', "as whoever signs in"
        )
    return format_html("<td>{}</td>", "—")


@register.simple_tag
def kind_badge(kind: str) -> str:
    """A badge for a scope kind (read / manage / self); "" for none."""
    if not kind:
        return ""
    return format_html('<span class="badge kind-{}">{}</span>', kind, kind)


OWN_APP_LABELS = {"console": "this console's app", "worker": "the worker's app"}


@register.simple_tag
def app_flags(app: Any) -> str:
    """Badges after an app's label: the console's or the worker's own app
    (``presenters.own_app``), and a public client holding manage scopes
    (``presenters.public_client_holding_manage``); "" for neither."""
    badges = []
    own = presenters.own_app(app.client_id)
    if own:
        badges.append(("own-app", OWN_APP_LABELS[own]))
    if presenters.public_client_holding_manage(app):
        badges.append(("risk-high", "public client with manage scopes"))
    return format_html_join("", ' <span class="badge {}">{}</span>', badges)


KIND_LETTERS = {"manage": "M", "read": "R", "self": "S"}
RISK_MARKS = {"critical": "!!!", "high": "!!", "medium": "!", "low": ""}
EMPTY_CELL = format_html(
    '<td class="cell-none"><span class="visually-hidden">{}</span>·</td>', "none"
)


@register.simple_tag
def matrix_cell(cell: Any, app_url: str, per_scope: bool = True) -> str:
    """One matrix cell (``presenters.MatrixCell`` or None): the kind's letter and
    the risk's !-marks shown, the same in words for screen readers, the risk as
    a CSS class, a link to the scope's row on the app's page (``app_url``), or
    to ``app_url`` as it is when not ``per_scope`` (a holder without an app
    page). Python, not template code: "all" renders up to thousands of cells."""
    if cell is None:
        return EMPTY_CELL
    anchor = f"#row-{quote(cell.scope_id, safe='')}" if per_scope else ""
    return format_html(
        '<td class="cell-{} cell-risk-{}"><a href="{}{}" title="{}: {}, {} risk">'
        '<span aria-hidden="true">{}{}</span>'
        '<span class="visually-hidden">{}, {} risk: {}</span></a></td>',
        cell.kind,
        cell.risk,
        app_url,
        anchor,
        cell.scope_id,
        cell.kind,
        cell.risk,
        KIND_LETTERS.get(cell.kind, "?"),
        RISK_MARKS.get(cell.risk, ""),
        cell.kind,
        cell.risk,
        cell.scope_id,
    )


_SENTINEL = "__gc_arg__"
# reverse() quotes path arguments keeping these (django.urls.resolvers). "/" is
# quoted too here, and every console route with an id ends in a literal part, so
# an id that is not a single path segment leads to a 404, never another page
# (where {% url %} would raise NoReverseMatch: a 500).
_PATH_SAFE = "!$&'()*+,;=~:@"


@register.simple_tag
def id_url(name: str, value: Any) -> str:
    """The path of route ``name`` (one ``str`` argument) for the id ``value``,
    kept inside one path segment. One real ``reverse()`` per route, URLconf and
    script prefix in a process, then string joins. Raises ValueError for a
    route without exactly one ``str`` argument."""
    return url_for(name)(value)


@register.simple_tag(takes_context=True)
def admin_link(context: Any, name: str, value: Any, text: Any = "") -> str:
    """A link to route ``name`` (an app or scope page: a Super Admin's) for the
    id ``value``, showing ``text`` (default: the id); for anyone else, such as
    an auditor on the audit or a report, the text alone, so no page they may
    read links to a page that refuses them. "" for no id."""
    if not value:
        return ""
    text = text or value
    if context.get("console_access") != "super_admin":
        return format_html("{}", text)
    return format_html('<a href="{}">{}</a>', url_for(name)(value), text)


def url_for(name: str) -> Callable[[Any], str]:
    """The builder behind :func:`id_url`: id -> path (not yet HTML-escaped)."""
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
    """A report key as words: "open_grants" → "Open grants"; "api" is
    written "API" ("api_service_integrations" → "API service integrations")."""
    text = " ".join(
        "API" if word == "api" else word for word in str(key).split("_") if word
    )
    return text[:1].upper() + text[1:]


_NO_ONE = Directory()


@register.simple_tag
def person(who: Any, people: Directory | None = None, okta_id: Any = "") -> str:
    """A person as every page shows one: display name and login, with the
    Okta user id on hover (``<abbr title>``).

    ``who`` is a stored login, user id or other text ("worker"), ``okta_id``
    the row's user id when it keeps one beside the login; ``people`` the
    page's :class:`~grantsconsole.grants.services.people.Directory`. A deleted
    user says so; a user not named yet, or whom the worker may not read, shows
    the id with a note. Other text is shown as it is; "" for nothing.
    """
    named = (people or _NO_ONE).resolve(str(who or ""), str(okta_id or ""))
    if not named.okta_id:
        return format_html("{}", named.text)
    if named.name and named.login:
        label = f"{named.name} ({named.login})"
    else:
        label = named.name or named.login
    deleted = named.state == "deleted"
    if label:
        return format_html(
            '<abbr class="person" title="Okta user id {}">{}</abbr>{}',
            named.okta_id,
            label,
            format_html(' <span class="muted">({})</span>', "deleted user")
            if deleted
            else "",
        )
    if deleted:
        note = "deleted user"
    elif named.state == "unreadable":
        note = "no name: the worker may not read users (okta.users.read)"
    else:
        note = "name not known yet"
    return format_html(
        '<span class="person mono" title="Okta user id">{}</span> '
        '<span class="muted">({})</span>',
        named.okta_id,
        note,
    )
