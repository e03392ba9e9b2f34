from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "grantsconsole.ops"
    label = "ops"
