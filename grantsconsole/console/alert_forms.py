"""Input validation for alert destinations (nothing here sends anything)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.validators import validate_email

from grantsconsole.governance import delivery
from grantsconsole.governance.alerting import KIND_NAMES
from grantsconsole.governance.alerts_models import RISKS, AlertDestination

Kind = AlertDestination.Kind
#: a JSON webhook's signing secret is at least this long
MIN_SECRET = 16


def webhook_url_problem(url: str) -> str:
    """Why ``url`` cannot be a webhook, in plain words ("" when it can):
    https with a host (plain http only where ALERT_WEBHOOK_ALLOW_HTTP, i.e.
    development), no user name or password in it."""
    parts = urlsplit(url)
    allowed = ("https", "http") if settings.ALERT_WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        return (
            "Use an https:// URL."
            if not settings.ALERT_WEBHOOK_ALLOW_HTTP
            else "Use an https:// (or, in development, http://) URL."
        )
    if not parts.hostname:
        return "The URL has no host."
    if parts.username or parts.password:
        return "Leave credentials out of the URL (a JSON webhook is signed instead)."
    internal = delivery.internal_address(parts.hostname)
    if internal:
        return (
            f"{parts.hostname} resolves to an internal address ({internal}): "
            "alerts only go to hosts on the internet."
        )
    return ""


class DestinationForm(forms.Form):
    """A destination's fields. ``instance``: the destination being edited,
    whose URL and secret are kept when those fields are left blank (they
    are never shown back)."""

    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Kind.choices)
    emails = forms.CharField(
        max_length=1000, required=False, label="E-mail addresses (comma-separated)"
    )
    url = forms.CharField(max_length=2000, required=False, label="Webhook URL")
    secret = forms.CharField(
        max_length=200,
        required=False,
        label="Signing secret (JSON webhook)",
        widget=forms.PasswordInput(render_value=False),
    )
    min_risk = forms.ChoiceField(
        choices=[(r, r) for r in RISKS], initial="high", label="Lowest risk sent"
    )
    kinds = forms.MultipleChoiceField(
        choices=[(k, v) for k, v in KIND_NAMES.items() if k != "test"],
        required=False,
        label="Kinds sent (none ticked: every kind)",
        widget=forms.CheckboxSelectMultiple,
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, instance: AlertDestination | None = None, **kw):
        super().__init__(*args, **kw)
        self.instance = instance

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = AlertDestination.objects.filter(name=name)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another destination has this name.")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        same_kind = self.instance is not None and self.instance.kind == kind
        if kind == Kind.EMAIL:
            addresses = [a.strip() for a in data.get("emails", "").split(",")]
            addresses = [a for a in addresses if a]
            if not addresses:
                self.add_error("emails", "Give at least one e-mail address.")
            for address in addresses:
                try:
                    validate_email(address)
                except forms.ValidationError:
                    self.add_error("emails", f"{address} is not an e-mail address.")
            data["emails"] = ", ".join(addresses)
        elif kind in (Kind.SLACK, Kind.WEBHOOK):
            url = data.get("url", "").strip()
            if not url and not same_kind:
                self.add_error("url", "Give the webhook's URL.")
            elif url and (problem := webhook_url_problem(url)):
                self.add_error("url", problem)
            data["url"] = url
        if kind == Kind.WEBHOOK:
            secret = data.get("secret", "")
            if not secret and not same_kind:
                self.add_error(
                    "secret", "Give a signing secret (the receiver verifies with it)."
                )
            elif secret and len(secret) < MIN_SECRET:
                self.add_error(
                    "secret", f"Use a secret of at least {MIN_SECRET} characters."
                )
        return data

    def save(self, by: str) -> AlertDestination:
        """Create or update the destination from the cleaned data; ``by``: the
        signed-in admin's login."""
        data = self.cleaned_data
        row = self.instance or AlertDestination(created_by=by[:300])
        row.name = data["name"]
        if row.kind != data["kind"]:
            row.url_encrypted = row.secret_encrypted = ""
        row.kind = data["kind"]
        row.emails = data["emails"] if row.kind == Kind.EMAIL else ""
        if row.kind != Kind.EMAIL and data["url"]:
            row.url = data["url"]
        if row.kind == Kind.WEBHOOK and data["secret"]:
            row.secret = data["secret"]
        row.min_risk = data["min_risk"]
        row.kinds = sorted(data["kinds"])
        row.enabled = data["enabled"]
        row.updated_by = by[:300]
        row.save()
        return row
