from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "grantsconsole.accounts"
    label = "accounts"
    verbose_name = "Super Admin sign-in"

    def ready(self) -> None:
        from grantsconsole.accounts import signals  # noqa: F401  (connects receivers)
