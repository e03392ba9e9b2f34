"""URL configuration: every route of the console in one place.

Django's admin site is deliberately not routed: its password login would be a way in
that skips Okta and the Super Admin check. Every page goes through
``grantsconsole.accounts.access``.
"""

from django.urls import include, path

from grantsconsole.accounts import views as accounts_views
from grantsconsole.ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    # accounts.urls first: it overrides allauth's login, logout and Okta routes
    path("accounts/", include("grantsconsole.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("health/console/", accounts_views.console_health, name="console_health"),
    # the console pages (grantsconsole/console/urls.py): apps, scopes, audit, sync, reports
    path("", include("grantsconsole.console.urls")),
]
