from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "grantsconsole.console"
    label = "console"
    verbose_name = "Console pages"
