"""``python manage.py sync_grants [--full|--incremental] [--enqueue]``.

Runs a sync in this process with the worker's Okta credentials (the same
services the Celery tasks call) and prints the outcome; ``--enqueue`` hands it
to the Celery workers instead. Exits 1 when the sync failed, 0 otherwise
(including "skipped": another sync of the same kind was running).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from grantsconsole.grants import services
from grantsconsole.grants.models import SyncRun
from grantsconsole.okta_clients import worker_client


class Command(BaseCommand):
    help = "Sync app grants from Okta (full by default, or incremental)."

    def add_arguments(self, parser: CommandParser) -> None:
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--full", action="store_true", help="All apps (default).")
        kind.add_argument(
            "--incremental", action="store_true", help="Only what the System Log names."
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue it for the Celery workers."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from grantsconsole.grants import tasks

        incremental = options["incremental"]
        if options["enqueue"]:
            task = tasks.incremental_sync if incremental else tasks.start_full_sync
            result = task.delay(trigger="command")
            self.stdout.write(f"queued {task.name} ({result.id})")
            return
        client = worker_client()
        if incremental:
            run = services.run_incremental_sync(client=client, trigger="command")
        else:
            run = services.run_full_sync(client=client, trigger="command")
        self.stdout.write(
            f"{run.kind} sync #{run.pk}: {run.status}. {run.message} "
            f"(apps {run.apps_done}/{run.apps_total}, +{run.grants_added} "
            f"-{run.grants_revoked} grants, {run.apps_failed} unreadable, "
            f"{run.okta_requests} Okta requests)"
        )
        for okta_id, message in sorted(run.errors.items()):
            self.stdout.write(f"  {okta_id}: {message}")
        if run.status == SyncRun.Status.FAILED:
            sys.exit(1)
