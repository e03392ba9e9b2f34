"""Read-only Django admin pages for support and debugging.

Nothing here can add, change or delete: grant state is written only by the
services, and audit rows are append-only (reliability-and-performance.md A-12).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from grantsconsole.grants.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditReport,
    OktaApp,
    ScopeGrant,
    SyncRun,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin page that only shows rows."""

    show_full_result_count = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(OktaApp)
class OktaAppAdmin(ReadOnlyAdmin):
    list_display = ("label", "okta_id", "application_type", "status", "grants_state")
    list_filter = ("status", "application_type", "grants_state")
    search_fields = ("label", "okta_id", "client_id")


@admin.register(ScopeGrant)
class ScopeGrantAdmin(ReadOnlyAdmin):
    list_display = ("scope_id", "app", "first_seen_at", "revoked_at", "revoked_by")
    list_select_related = ("app",)
    search_fields = ("scope_id", "app__label", "app__okta_id")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "created_at",
        "action",
        "outcome",
        "actor_login",
        "app_label",
    )
    list_filter = ("action", "outcome")
    search_fields = ("actor_login", "app_okta_id", "scope_id", "okta_request_id")


admin.site.register(AuditCheckpoint, ReadOnlyAdmin)
admin.site.register(SyncRun, ReadOnlyAdmin)
admin.site.register(AuditReport, ReadOnlyAdmin)
