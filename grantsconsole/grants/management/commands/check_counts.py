"""``python manage.py check_counts [--fix]``.

Compares every app's stored ``grant_count``, ``manage_count`` and
``max_risk_rank`` with its open grant rows. Exits 0 and prints "OK ..." when
all match; otherwise names each miscounted app on stderr (``--fix`` recounts
them) and exits 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from grantsconsole.grants.models import OktaApp


class Command(BaseCommand):
    help = "Compare the apps' stored grant counts with their grant rows."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix", action="store_true", help="Recount the miscounted apps."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            wrong = list(OktaApp.objects.miscounted().order_by("pk"))
            for app in wrong:
                self.stderr.write(
                    f"{app.okta_id}: stored {app.grant_count}/{app.manage_count}/"
                    f"{app.max_risk_rank}, rows say {app.expected_grant_count}/"
                    f"{app.expected_manage_count}/{app.expected_max_risk_rank} "
                    "(open grants/manage grants/max risk rank)"
                )
            if wrong and options["fix"]:
                OktaApp.objects.filter(pk__in=[a.pk for a in wrong]).recount()
        if wrong:
            raise CommandError(f"{len(wrong)} app(s) miscounted.")
        total = OktaApp.objects.count()
        self.stdout.write(f"OK {total} apps: stored grant counts match the rows.")
