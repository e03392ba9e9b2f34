from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "grantsconsole.usage"
    label = "usage"
    verbose_name = "Usage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grantsconsole.grants import audit
        from grantsconsole.usage.signing import SEAL

        # Each audit checkpoint signs the roll-ups of the days closed since.
        audit.register_seal(SEAL)
