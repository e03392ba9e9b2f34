"""``python manage.py demo_alert_destination URL``: point the demo's JSON
webhook destination at the simulator's local receiver (``make run`` does),
so an out-of-band grant in the demo org shows up as a delivered webhook."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grantsconsole.governance.alerts_models import AlertDestination

NAME = "Demo receiver (simulator)"


class Command(BaseCommand):
    help = (
        "Create or update the demo's JSON webhook destination (every kind, "
        "every risk) pointing at URL, signed with the demo secret."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("url", help="e.g. http://127.0.0.1:8001/__sim__/webhooks")

    def handle(self, *args, url: str, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo destination is for development only.")
        row = AlertDestination.objects.filter(name=NAME).first() or AlertDestination(
            name=NAME, created_by="make run"
        )
        row.kind = AlertDestination.Kind.WEBHOOK
        row.url = url
        row.secret = settings.DEMO_ALERT_WEBHOOK_SECRET
        row.min_risk = "low"
        row.kinds = []
        row.enabled = True
        row.updated_by = "make run"
        row.save()
        self.stdout.write(f"{NAME}: alerts go to {url}")
