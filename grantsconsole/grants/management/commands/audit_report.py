"""``python manage.py audit_report [--days N] [--format json|csv|summary] [--output FILE]``.

Builds and stores an audit report for the last N days (default 1) and prints
it (summary by default) or writes it to FILE.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from grantsconsole.grants import services


class Command(BaseCommand):
    help = "Build, store and export the grants audit report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=float, default=1.0, help="Period length.")
        parser.add_argument(
            "--format", choices=("summary", "json", "csv"), default="summary"
        )
        parser.add_argument("--output", help="Write to this file instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        end = timezone.now()
        report = services.create_report(
            start=end - timedelta(days=options["days"]), end=end, trigger="command"
        )
        fmt = options["format"]
        if fmt == "json":
            text = services.report_as_json(report)
        elif fmt == "csv":
            text = services.report_as_csv(report)
        else:
            totals = report.data["totals"]
            text = (
                f"audit report #{report.pk} ({report.period_start:%Y-%m-%d %H:%M} to {report.period_end:%Y-%m-%d %H:%M} UTC)\n"
                + "".join(f"  {name}: {value}\n" for name, value in totals.items())
            )
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            self.stdout.write(
                f"audit report #{report.pk} written to {options['output']}"
            )
        else:
            self.stdout.write(text, ending="")
