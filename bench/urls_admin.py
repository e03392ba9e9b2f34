"""Bench-only URL conf: the console's routes plus Django admin's changelist of the
apps table, as the baseline the apps list is compared with (``bench/pages.py``).

The product deliberately does not route Django's admin site (``grantsconsole/urls.py``):
its password login would bypass Okta and the Super Admin check. This module is used
only inside the pages benchmark (``ROOT_URLCONF`` overridden there), with a
separate ``AdminSite`` instance, so nothing is registered on the global admin site.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from grantsconsole.grants.models import OktaApp

site = admin.AdminSite(name="benchadmin")


@admin.register(OktaApp, site=site)
class OktaAppAdmin(admin.ModelAdmin):
    """The apps table as Django admin shows it (defaults: 100 per page, full count)."""

    list_display = ("label", "okta_id", "client_id", "application_type", "status")
    list_filter = ("status", "application_type")
    search_fields = ("label", "okta_id", "client_id")


urlpatterns = [
    path("admin/", site.urls),
    path("", include("grantsconsole.urls")),
]
