from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "grantsconsole.governance"
    label = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The policy is evaluated after every sync and every change of grants.
        from grantsconsole.governance import policies
        from grantsconsole.grants.signals import grant_state_changed

        grant_state_changed.connect(
            policies.evaluate_after_change, dispatch_uid="governance.policy"
        )
