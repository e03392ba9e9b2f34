from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "grantsconsole.governance"
    label = "governance"
    verbose_name = "Governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grantsconsole.governance import policies, receivers
        from grantsconsole.grants import signals

        signals.grants_changed.connect(
            receivers.grants_changed, dispatch_uid="governance.owners"
        )
        signals.user_deactivated.connect(
            receivers.user_deactivated, dispatch_uid="governance.orphans"
        )
        signals.external_change.connect(
            receivers.external_change, dispatch_uid="governance.out_of_band"
        )
        signals.verification_failed.connect(
            receivers.verification_failed, dispatch_uid="governance.verification"
        )
        # The policy is evaluated after every sync and every change of grants.
        signals.grant_state_changed.connect(
            policies.evaluate_after_change, dispatch_uid="governance.policy"
        )
