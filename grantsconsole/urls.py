"""URL configuration: every route of the console in one place."""

from django.contrib import admin
from django.urls import path

from grantsconsole.ops import views as ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
