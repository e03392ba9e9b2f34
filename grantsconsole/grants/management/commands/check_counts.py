"""``python manage.py check_counts [--fix]``.

Compares every app's stored ``grant_count``, ``manage_count`` and
``max_risk_rank``, and every scope's ``ScopeCount.holders``, with the open
grant rows, and each grant row's ``app_label`` with its app's label. Exits 0
and prints "OK ..." when all match; otherwise names each miscounted app and
scope and each app with stale labels on stderr (``--fix`` recounts and
relabels them) and exits 1.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import F

from grantsconsole.grants.models import OktaApp, ScopeCount, ScopeGrant


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
            scopes = ScopeCount.objects.miscounted()
            for scope_id, stored, rows in scopes:
                self.stderr.write(
                    f"{scope_id}: stored {stored}, rows say {rows} (open grants)"
                )
            relabel = sorted(
                ScopeGrant.objects.exclude(app_label=F("app__label"))
                .values_list("app__okta_id", flat=True)
                .distinct()
            )
            for okta_id in relabel:
                self.stderr.write(f"{okta_id}: grant rows carry an old app label")
            if options["fix"]:
                OktaApp.objects.filter(pk__in=[a.pk for a in wrong]).recount()
                ScopeCount.objects.recount()
                for app in OktaApp.objects.filter(okta_id__in=relabel):
                    app.save(update_fields=["label"])  # copies it to its grants
        problems = [
            f"{n} {what}"
            for n, what in (
                (len(wrong), "app(s) miscounted"),
                (len(scopes), "scope(s) miscounted"),
                (len(relabel), "app(s) with stale grant labels"),
            )
            if n
        ]
        if problems:
            raise CommandError(", ".join(problems) + ".")
        total = OktaApp.objects.count()
        self.stdout.write(
            f"OK {total} apps: stored grant and scope counts and labels match the rows."
        )
