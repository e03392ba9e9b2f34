"""Alerts: what was raised and the delivery log, and the destinations alerts
go to (Super Admins only: a destination is where the org's security news
goes). Editing a destination and its test button are POST-only, leave an
``alert_destination`` audit row (never a secret), and change nothing in Okta.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import super_admin_required, super_admin_write
from grantsconsole.console.alert_forms import DestinationForm
from grantsconsole.console.views.common import actor_of, render_page
from grantsconsole.governance.alerting import KIND_NAMES, raise_alert
from grantsconsole.governance.alerts_models import (
    Alert,
    AlertDelivery,
    AlertDestination,
)
from grantsconsole.grants import audit

#: rows the alerts page shows of each list (newest first)
SHOWN = 100


@require_GET
@super_admin_required
def alerts_list(request: HttpRequest) -> HttpResponse:
    """The newest alerts and the delivery log: each delivery's destination,
    status, attempts, last answer or error and next retry."""
    alerts = list(
        Alert.objects.select_related("app")
        .prefetch_related("deliveries")
        .order_by("-id")[:SHOWN]
    )
    for alert in alerts:
        alert.kind_name = KIND_NAMES.get(alert.kind, alert.kind)
    context = {
        "alerts": alerts,
        "deliveries": AlertDelivery.objects.select_related("alert").order_by("-id")[
            :SHOWN
        ],
        "destinations": AlertDestination.objects.count(),
    }
    return render_page(request, "alerts/list.html", context, section="alerts")


def _destinations_page(
    request: HttpRequest, form: DestinationForm, status: int = 200
) -> HttpResponse:
    rows = list(AlertDestination.objects.order_by("name"))
    for row in rows:
        row.kind_names = [KIND_NAMES.get(k, k) for k in row.kinds]
    context = {"rows": rows, "form": form}
    return render_page(
        request, "alerts/destinations.html", context, section="alerts", status=status
    )


@require_GET
@super_admin_required
def destinations_list(request: HttpRequest) -> HttpResponse:
    """Every destination (targets masked) and the form to add one."""
    return _destinations_page(request, DestinationForm())


def _record(request: HttpRequest, change: str, row: AlertDestination) -> None:
    audit.record(
        "alert_destination",
        **actor_of(request).fields,
        detail={
            "change": change,
            "destination": row.name,
            "kind": row.kind,
            "min_risk": row.min_risk,
            "kinds": row.kinds,
            "enabled": row.enabled,
        },
    )


@require_POST
@super_admin_write
def destination_create(request: HttpRequest) -> HttpResponse:
    """Add a destination; invalid input shows the form again with the
    reasons (400, nothing stored)."""
    form = DestinationForm(request.POST)
    if not form.is_valid():
        return _destinations_page(request, form, status=400)
    row = form.save(by=actor_of(request).name)
    _record(request, "created", row)
    messages.success(request, f"Destination {row.name} added.")
    return redirect("alert-destinations")


def _destination_page(
    request: HttpRequest,
    row: AlertDestination,
    form: DestinationForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "row": row,
        "form": form,
        "deliveries": row.deliveries.select_related("alert").order_by("-id")[:SHOWN],
    }
    return render_page(
        request, "alerts/destination.html", context, section="alerts", status=status
    )


@require_GET
@super_admin_required
def destination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One destination: its settings to edit (URL and secret left blank,
    kept unless replaced) and its deliveries."""
    row = get_object_or_404(AlertDestination, pk=pk)
    form = DestinationForm(
        instance=row,
        initial={
            "name": row.name,
            "kind": row.kind,
            "emails": row.emails,
            "min_risk": row.min_risk,
            "kinds": row.kinds,
            "enabled": row.enabled,
        },
    )
    return _destination_page(request, row, form)


@require_POST
@super_admin_write
def destination_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a destination; invalid input shows the form again (400)."""
    row = get_object_or_404(AlertDestination, pk=pk)
    form = DestinationForm(request.POST, instance=row)
    if not form.is_valid():
        return _destination_page(request, row, form, status=400)
    form.save(by=actor_of(request).name)
    _record(request, "updated", row)
    messages.success(request, f"Destination {row.name} saved.")
    return redirect("alert-destination", pk=row.pk)


@require_POST
@super_admin_write
def destination_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a destination (its deliveries stay in the log, by name)."""
    row = get_object_or_404(AlertDestination, pk=pk)
    _record(request, "deleted", row)
    row.delete()
    messages.success(request, f"Destination {row.name} deleted.")
    return redirect("alert-destinations")


@require_POST
@super_admin_write
def destination_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a test alert to this destination now, whatever its filters, and
    say what happened (a failure worth retrying is retried like any other)."""
    row = get_object_or_404(AlertDestination, pk=pk)
    alert = raise_alert(
        "test",
        risk="low",
        title=f"Test alert for {row.name}, sent by {actor_of(request).name}",
        details={"destination": row.name, "sent_by": actor_of(request).name},
        destinations=[row],
        deliver_now=True,
    )
    sent = alert.deliveries.get()
    if sent.status == AlertDelivery.Status.DELIVERED:
        code = f" (answered {sent.status_code})" if sent.status_code else ""
        messages.success(request, f"Test alert delivered to {row.name}{code}.")
    else:
        retry = (
            " It will be tried again."
            if sent.status == AlertDelivery.Status.RETRYING
            else ""
        )
        messages.error(
            request,
            f"Test alert not delivered to {row.name}: {sent.error or sent.status}.{retry}",
        )
    return redirect("alert-destination", pk=row.pk)
