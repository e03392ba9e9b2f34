"""Routes of the console pages (flat, hyphenated names; included at the site root)."""

from django.urls import path

from grantsconsole.console.views import (
    app_tokens,
    apps,
    audit,
    home,
    integrations,
    reports,
    scopes,
    sync,
    usage,
)

urlpatterns = [
    path("", home, name="home"),
    path("apps/", apps.apps_list, name="apps-list"),
    path("apps/<str:okta_id>/", apps.app_detail, name="app-detail"),
    path("apps/<str:okta_id>/grants/grant", apps.grant_create, name="grant-create"),
    path("apps/<str:okta_id>/grants/revoke", apps.grant_revoke, name="grant-revoke"),
    path("apps/<str:okta_id>/grants/undo", apps.grant_undo, name="grant-undo"),
    path("apps/<str:okta_id>/refresh", apps.app_refresh, name="app-refresh"),
    path("integrations/", integrations.integrations_list, name="integrations-list"),
    path(
        "integrations/<str:okta_id>/remove",
        integrations.integration_remove,
        name="integration-remove",
    ),
    path(
        "apps/<str:okta_id>/tokens/revoke",
        app_tokens.tokens_revoke,
        name="tokens-revoke",
    ),
    path("scopes/", scopes.scopes_list, name="scopes-list"),
    path("scopes/matrix/", scopes.scopes_matrix, name="scopes-matrix"),
    path("scopes/<str:scope_id>/", scopes.scope_detail, name="scope-detail"),
    path(
        "scopes/<str:scope_id>/grant", scopes.scope_grant_bulk, name="scope-grant-bulk"
    ),
    path(
        "scopes/<str:scope_id>/revoke",
        scopes.scope_revoke_bulk,
        name="scope-revoke-bulk",
    ),
    path("usage/unused/", usage.unused_list, name="usage-unused"),
    path("usage/plans/apply", usage.plans_apply, name="plans-apply"),
    path("usage/plans/export.<str:fmt>", usage.plans_export, name="plans-export"),
    path("audit/", audit.audit_list, name="audit-list"),
    path("audit/export.<str:fmt>", audit.audit_export, name="audit-export"),
    path("audit/verify", audit.audit_verify, name="audit-verify"),
    path("audit/<int:seq>/", audit.audit_detail, name="audit-detail"),
    path("sync/", sync.sync_list, name="sync-list"),
    path("sync/progress", sync.sync_progress, name="sync-progress"),
    path("sync/start", sync.sync_start, name="sync-start"),
    path("sync/<int:run_id>/", sync.sync_detail, name="sync-detail"),
    path("reports/", reports.reports_list, name="reports-list"),
    path("reports/generate", reports.report_generate, name="report-generate"),
    path(
        "reports/charts/grants-over-time.svg",
        reports.chart_grants_over_time,
        name="chart-grants-over-time",
    ),
    path(
        "reports/charts/top-manage-scopes.svg",
        reports.chart_top_manage,
        name="chart-top-manage",
    ),
    path(
        "reports/charts/least-privilege-by-risk.svg",
        reports.chart_least_privilege_by_risk,
        name="chart-least-privilege-by-risk",
    ),
    path(
        "reports/charts/least-privilege-trend.svg",
        reports.chart_least_privilege_trend,
        name="chart-least-privilege-trend",
    ),
    path("reports/<int:report_id>/", reports.report_detail, name="report-detail"),
    path(
        "reports/<int:report_id>/export.<str:fmt>",
        reports.report_export,
        name="report-export",
    ),
]
