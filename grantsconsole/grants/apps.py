from django.apps import AppConfig
from django.db.backends.signals import connection_created


class GrantsConfig(AppConfig):
    name = "grantsconsole.grants"
    label = "grants"
    verbose_name = "Okta app grants"

    def ready(self) -> None:
        from grantsconsole.grants import append_only

        connection_created.connect(
            append_only.install, dispatch_uid="grants.append_only"
        )
