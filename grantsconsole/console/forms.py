"""Input validation for the console pages (filters, scope and app selections).

Nothing here touches Okta. Unknown app or scope ids raise ``Http404``; a tampered
selection (a value sent twice, nothing chosen) raises :class:`SelectionError`
with a message an admin can act on.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q
from django.http import Http404, QueryDict

from grantsconsole.console import presenters
from grantsconsole.console.catalog import RISK_RANK, get_catalog
from grantsconsole.console.selectors import APP_SORTS, AppFilters, AuditFilters
from grantsconsole.grants.audit import ACTION_NAMES, ACTIONS
from grantsconsole.grants.intents import INTENT_ACTIONS
from grantsconsole.grants.models import OktaApp
from grantsconsole.usage.verdicts import clamp_window

APP_TYPES = [
    ("", "Any type"),
    ("web", "Web"),
    ("native", "Native"),
    ("browser", "Single-page (browser)"),
    ("service", "Service (API)"),
]
APP_STATUSES = [
    ("", "Present (any status)"),
    ("ACTIVE", "Active"),
    ("INACTIVE", "Inactive"),
    ("removed", "Removed from Okta"),
]
SORT_CHOICES = [(key, key) for key in APP_SORTS]
# "at least" filters on a stored risk rank (catalog.RISK_RANK): low needs none
MIN_RISKS = [
    ("", "Any risk"),
    ("medium", "Medium or higher"),
    ("high", "High or critical"),
    ("critical", "Critical"),
]
SCOPE_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
APP_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_SELECTION = 200


class SelectionError(ValueError):
    """A scope or app selection the console refuses before calling Okta."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AppFilterForm(forms.Form):
    """Search, filters and sort of the apps list (all optional, GET)."""

    q = forms.CharField(
        required=False, max_length=200, label="Search label or client id"
    )
    type = forms.ChoiceField(required=False, choices=APP_TYPES, label="Type")
    status = forms.ChoiceField(required=False, choices=APP_STATUSES, label="Status")
    scope = forms.CharField(
        required=False,
        max_length=200,
        label="Holds scope",
        help_text="e.g. okta.users.manage",
    )
    manage = forms.BooleanField(required=False, label="Holds any manage scope")
    changed = forms.IntegerField(
        required=False, min_value=1, max_value=3650, label="Changed in the last N days"
    )
    unreadable = forms.BooleanField(required=False, label="Grants unreadable")
    risk = forms.ChoiceField(required=False, choices=MIN_RISKS, label="Highest risk")
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES)

    def clean_scope(self) -> str:
        value = self.cleaned_data["scope"].strip()
        if value and not SCOPE_ID_RE.match(value):
            raise forms.ValidationError("Enter a scope id such as okta.users.manage.")
        return value

    def to_filters(self) -> AppFilters:
        """The filters (defaults for any field that failed validation)."""
        self.is_valid()  # invalid fields are left out of cleaned_data (defaults)
        data = getattr(self, "cleaned_data", {})  # unbound form: no filters
        return AppFilters(
            q=(data.get("q") or "").strip(),
            app_type=data.get("type") or "",
            status=data.get("status") or "",
            holds_scope=data.get("scope") or "",
            holds_manage=bool(data.get("manage")),
            changed_days=data.get("changed"),
            unreadable=bool(data.get("unreadable")),
            min_risk_rank=RISK_RANK.get(data.get("risk") or "", 0),
            sort=data.get("sort") or "label",
        )


class AppViewForm(forms.Form):
    """Which scopes an app's page lists and the "Add scopes" picker's filters
    (GET on the page; hidden fields of its write forms). See ``AppView``."""

    show = forms.ChoiceField(
        required=False, choices=[(c, c) for c in presenters.SHOW_CHOICES]
    )
    pick = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=100, label="Search scopes")
    resource = forms.ChoiceField(required=False, label="Resource")
    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[
            ("", "Any kind"),
            ("read", "read"),
            ("manage", "manage"),
            ("other", "other (self scopes)"),
        ],
    )
    risk = forms.ChoiceField(
        required=False,
        label="Risk",
        choices=[("", "Any risk"), *((r, r) for r in presenters.PICKER_RISKS)],
    )
    # Clamped to 30-365 in ``to_view``; anything unreadable is the default.
    window = forms.CharField(required=False, max_length=12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [
            ("", "Any resource"),
            *((r, r) for r, _ in get_catalog().groups),
        ]

    def to_view(self) -> presenters.AppView:
        """The view (the default for any field that failed validation)."""
        self.is_valid()  # invalid fields are left out of cleaned_data (defaults)
        data = getattr(self, "cleaned_data", {})  # unbound form: the default view
        return presenters.AppView(
            show=data.get("show") or "held",
            pick=bool(data.get("pick")),
            q=(data.get("q") or "").strip(),
            resource=data.get("resource") or "",
            kind=data.get("kind") or "",
            risk=data.get("risk") or "",
            window=clamp_window(data.get("window") or None),
        )


#: the most apps an audit app filter may match (see AuditFilterForm.clean)
AUDIT_APPS_MAX = 20


class AuditFilterForm(forms.Form):
    """Filters of the audit page and its exports (GET)."""

    app = forms.CharField(
        required=False, max_length=500, label="App (label or Okta id)"
    )
    scope = forms.CharField(
        required=False,
        max_length=200,
        label="Scope",
        widget=forms.TextInput(attrs={"list": "scope-ids"}),
    )
    actor = forms.CharField(required=False, max_length=300, label="Actor (login or id)")
    action = forms.ChoiceField(
        required=False,
        choices=[("", "Any action"), *((a, ACTION_NAMES[a]) for a in ACTIONS)],
        label="Action",
    )
    external = forms.BooleanField(
        required=False, label="Changes made outside the console"
    )
    date_from = forms.DateField(
        required=False,
        label="From (UTC)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        required=False,
        label="To (UTC, inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # The "requested" row written before each grant or revoke is sent to Okta
    # (grants.intents); its outcome is the row that follows, so it is noise
    # unless someone looks for requests that never got an answer.
    intents = forms.BooleanField(required=False, label="Show intent rows")
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self) -> dict:
        """An inverted range is an error on "To", and neither date is applied
        (the rows shown are not filtered by date). The app text is resolved to
        at most ``AUDIT_APPS_MAX`` apps (one query): more is an error on "App"
        and the app filter is not applied, since sorting the rows of hundreds
        of apps would make the page slow."""
        data = super().clean()
        text = (data.get("app") or "").strip()
        if text:
            pks = list(
                OktaApp.objects.filter(Q(okta_id=text) | Q(label__icontains=text))
                .order_by("label", "pk")
                .values_list("pk", flat=True)[: AUDIT_APPS_MAX + 1]
            )
            if len(pks) > AUDIT_APPS_MAX:
                del data["app"]
                self.add_error(
                    "app",
                    f"“{text}” matches more than {AUDIT_APPS_MAX} apps: type more "
                    "of the label, or the app's Okta id. The app filter was not "
                    "applied.",
                )
            else:
                data["app_ids"] = tuple(pks)
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_from > date_to:
            del data["date_from"]
            self.add_error(
                "date_to",
                f"“To” ({date_to.isoformat()}) is before “From” "
                f"({date_from.isoformat()}): swap them. The dates were not applied.",
            )
        return data

    def to_filters(self) -> AuditFilters:
        """The filters (defaults for any field that failed validation). Intent
        rows are left out unless asked for or chosen as the action."""
        self.is_valid()  # invalid fields are left out of cleaned_data (defaults)
        data = getattr(self, "cleaned_data", {})  # unbound form: no filters
        date_from = data.get("date_from")
        date_to = data.get("date_to")
        action = data.get("action") or ""
        return AuditFilters(
            include_intents=bool(data.get("intents")) or action in INTENT_ACTIONS,
            app=(data.get("app") or "").strip(),
            app_ids=data.get("app_ids"),
            scope=(data.get("scope") or "").strip(),
            actor=(data.get("actor") or "").strip(),
            action=data.get("action") or "",
            external_only=bool(data.get("external")),
            date_from=datetime.combine(date_from, time.min, tzinfo=UTC)
            if date_from
            else None,
            # The end of date_to, exclusive; the last day a date can name has
            # no next day, so it sets no bound at all.
            date_to=(
                datetime.combine(date_to, time.min, tzinfo=UTC) + timedelta(days=1)
                if date_to and date_to < date.max
                else None
            ),
        )

    def before_seq(self) -> int | None:
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("before")


class SyncStartForm(forms.Form):
    """ "Sync now": which kind of sync to start."""

    kind = forms.ChoiceField(choices=[("incremental", "Incremental"), ("full", "Full")])


def _unique_selection(values: list[str], noun: str) -> list[str]:
    if not values or all(not v.strip() for v in values):
        raise SelectionError(f"Choose at least one {noun}.")
    if len(values) > MAX_SELECTION:
        raise SelectionError(f"Choose at most {MAX_SELECTION} {noun}s at a time.")
    seen: set[str] = set()
    twice: list[str] = []
    for value in values:
        if value in seen and value not in twice:
            twice.append(value)
        seen.add(value)
    if twice:
        names = ", ".join(twice)
        raise SelectionError(
            f"The form sent {names} more than once; each {noun} may appear only once. "
            "Nothing was changed; reload the page and choose again."
        )
    return values


def scope_selection(data: QueryDict) -> list[str]:
    """The scopeIds chosen in a grant or revoke form, in the order sent.

    A per-row button sends ``only=<scopeId>`` (that scope alone); the "grant a
    scope by id" field sends ``scope_id``; otherwise the ticked ``scope``
    checkboxes count. Any well-formed scopeId is accepted, catalogued or not:
    Okta, not our catalog, judges scope names. Raises ``SelectionError`` for an
    empty selection, a scope sent twice or a malformed scopeId.
    """
    only = data.get("only", "") or data.get("scope_id", "").strip()
    values = [only] if only else data.getlist("scope")
    values = _unique_selection(values, "scope")
    for value in values:
        if not SCOPE_ID_RE.match(value):
            raise SelectionError(
                f"{value[:80]!r} is not a scope id: Okta scope ids look like "
                "okta.users.read (letters, digits and . _ : -, at most 200). "
                "Nothing was changed."
            )
    return values


def app_selection(data: QueryDict) -> list[str]:
    """The Okta app ids chosen in a bulk form (``app`` values), in the order sent.

    Raises ``SelectionError`` for an empty selection or an app sent twice and
    ``Http404`` for a malformed id (the caller 404s ids it cannot find).
    """
    values = _unique_selection(data.getlist("app"), "app")
    for value in values:
        if not APP_ID_RE.match(value):
            raise Http404("Unknown app.")
    return values
