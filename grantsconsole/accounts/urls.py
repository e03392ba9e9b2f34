"""Routes under ``accounts/``; included before ``allauth.urls`` so these win."""

from django.urls import path

from grantsconsole.accounts import oidc, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("oidc/okta/login/", oidc.login, name="okta_login"),
    path("oidc/okta/login/callback/", oidc.callback, name="okta_callback"),
    path("step-up/resume/", views.step_up_resume, name="step_up_resume"),
]
