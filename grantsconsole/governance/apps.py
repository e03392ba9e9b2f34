from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "grantsconsole.governance"
    label = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grantsconsole.governance import receivers
        from grantsconsole.grants import signals

        signals.grants_changed.connect(
            receivers.grants_changed, dispatch_uid="governance.owners"
        )
        signals.user_deactivated.connect(
            receivers.user_deactivated, dispatch_uid="governance.orphans"
        )
