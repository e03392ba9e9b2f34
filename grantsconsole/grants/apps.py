from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "grantsconsole.grants"
    label = "grants"
    verbose_name = "Okta app grants"
