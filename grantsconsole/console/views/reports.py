"""Stored audit reports (view, export, "Generate report now") and the charts of
grant state over time.

Charts are server-side SVG (``console.charts``): no script, no CDN, and the CSP
(``style-src 'self'``) is satisfied because the SVG uses classes from
``static/css/console.css`` and presentation attributes only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from grantsconsole.accounts.access import auditor_allowed, super_admin_write
from grantsconsole.console import charts, selectors
from grantsconsole.console.views.common import is_htmx, render_page
from grantsconsole.grants.models import AuditReport
from grantsconsole.grants.services import reports as report_services


def _after(request: HttpRequest) -> int | None:
    """The ``after`` query parameter: the newest report id when "Generate
    report now" was pressed (None when absent or not a number)."""
    try:
        return max(int(request.GET["after"]), 0)
    except (KeyError, ValueError):
        return None


@require_GET
@auditor_allowed
def reports_list(request: HttpRequest) -> HttpResponse:
    """Stored reports and the two charts (each chart is its own SVG request).

    After "Generate report now" (``?after=<newest report id then>``) the page
    says whether the new report has arrived; htmx polls that fragment alone
    every 2 s until it has, and the fragment that says it has also replaces
    the list of stored reports (out of band). Queries: the auth ones, the stale banner, the
    reports (without their data), and with ``after`` the newer report.
    """
    after = _after(request)
    arrived = selectors.report_after(after) if after is not None else None
    context = {"reports": selectors.reports(), "after": after, "arrived": arrived}
    if after is not None and is_htmx(request):
        context["oob"] = True
        return render(request, "reports/list.html#arriving", context)
    return render_page(request, "reports/list.html", context, section="reports")


@require_POST
@super_admin_write
def report_generate(request: HttpRequest) -> HttpResponse:
    """ "Generate report now" (POST): queue the audit report task for the
    worker and show the reports page, which says when the report arrives."""
    from grantsconsole.grants import tasks

    newest = AuditReport.objects.order_by("-id").values_list("pk", flat=True).first()
    transaction.on_commit(lambda: tasks.audit_report.delay(trigger="console"))
    messages.success(
        request,
        "A report was queued; it appears here once a worker has written it.",
    )
    return redirect(f"{reverse('reports-list')}?after={newest or 0}")


def _svg(body: str) -> HttpResponse:
    response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=60"
    return response


@require_GET
@auditor_allowed
def chart_grants_over_time(request: HttpRequest) -> HttpResponse:
    """SVG line chart: open grants at the end of each of the last 30 days (UTC)
    since the baseline. Two queries after auth."""
    points = selectors.grant_counts_over_time(days=30)
    return _svg(
        charts.line_chart(
            [(d.strftime("%m-%d"), n) for d, n in points],
            title="Open grants at the end of each day since the baseline, "
            "last 30 days (UTC)",
        )
    )


@require_GET
@auditor_allowed
def chart_top_manage(request: HttpRequest) -> HttpResponse:
    """SVG bar chart: the manage scopes held by the most apps. One query after auth."""
    return _svg(
        charts.bar_chart(
            selectors.most_held_manage_scopes(limit=10),
            title="Manage scopes held by the most apps",
        )
    )


@require_GET
@auditor_allowed
def chart_least_privilege_by_risk(request: HttpRequest) -> HttpResponse:
    """SVG bar chart: the newest report's unused and reducible grants by risk.
    One query after auth."""
    bars = [
        (f"{risk} {verdict}", counts[verdict])
        for risk, counts in selectors.least_privilege_by_risk().items()
        for verdict in ("unused", "reducible")
    ]
    return _svg(
        charts.bar_chart(
            bars,
            title="Unused and reducible grants by risk, newest report",
            unit="grants",
            empty="No report has judged usage yet.",
        )
    )


@require_GET
@auditor_allowed
def chart_least_privilege_trend(request: HttpRequest) -> HttpResponse:
    """SVG line chart: unused and reducible grants in each of the last 30
    reports that judged them. One query after auth."""
    rows = selectors.least_privilege_trend(limit=30)
    return _svg(
        charts.line_chart(
            [(at.strftime("%m-%d"), unused) for at, unused, _ in rows],
            second=[reducible for _, _, reducible in rows],
            legend=("unused", "reducible"),
            title="Unused and reducible grants in each report, last 30 reports (UTC)",
        )
    )


def _report_or_404(report_id: int) -> AuditReport:
    report = AuditReport.objects.filter(pk=report_id).first()
    if report is None:
        raise Http404("Unknown report.")
    return report


KNOWN_SECTIONS = (
    "period",
    "generated_at",
    "notice",
    "totals",
    "critical_holders",
    "changes",
    "external_changes",
    "failed_attempts",
    "grants_unavailable",
    "unreadable_apps",
    "uncatalogued_scopes",
    "foreign_issuer_grants",
    "verification",
    "api_service_integrations",
    "org_settings",
    "least_privilege",
)


def _sections(data: Any) -> list[tuple[str, Any]]:
    """Sections this page has no dedicated layout for, for generic rendering."""
    if not isinstance(data, dict):
        return [("report", data)]
    return [(k, v) for k, v in data.items() if k not in KNOWN_SECTIONS]


@require_GET
@auditor_allowed
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """One stored report, section by section, with the people it names (one
    query, ``reports.report_people``)."""
    report = _report_or_404(report_id)
    data = report.data if isinstance(report.data, dict) else {}
    context = {
        "report": report,
        "data": data,
        "sections": _sections(report.data),
        "people": report_services.report_people(data),
    }
    return render_page(request, "reports/detail.html", context, section="reports")


@require_GET
@auditor_allowed
def report_export(request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
    """One report as JSON (its data, as stored) or CSV (one row per fact), in the
    formats of ``grants.services.reports``."""
    if fmt not in ("csv", "json"):
        raise Http404("Unknown export format.")
    report = _report_or_404(report_id)
    name = f"audit-report-{report.pk}-{report.created_at:%Y%m%d}"
    if fmt == "json":
        response = HttpResponse(
            report_services.report_as_json(report), content_type="application/json"
        )
    else:
        response = HttpResponse(
            report_services.report_as_csv(report),
            content_type="text/csv; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
