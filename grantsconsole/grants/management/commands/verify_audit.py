"""``python manage.py verify_audit [--against FILE ...] [--checkpoint]``.

Checks the audit hash chain, the signed checkpoints in the database, and the
signed checkpoint lines kept outside it: every ``--against`` file (e.g. an
export of the log drain; lines without a checkpoint are skipped, and lines that
look like one but are not signed with the audit key are ignored and counted on
stderr) and ``settings.AUDIT_CHECKPOINT_FILE`` when set. The result is stored
(shown on the audit page). Exits 0 and prints "OK ..." when all verify;
otherwise prints the first bad row (its seq) or checkpoint to stderr and exits
1. ``--checkpoint`` then signs a checkpoint of the verified head.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from grantsconsole.grants import append_only, services
from grantsconsole.grants.models import AuditVerification


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and signed checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--against",
            action="append",
            default=[],
            metavar="FILE",
            help="A file with checkpoint lines kept outside the database "
            "(log drain export); may be repeated.",
        )
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="After a clean check, write a new signed checkpoint of the head.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        lines: list[str] = []
        for name in options["against"]:
            try:
                lines += (
                    Path(name)
                    .read_text(encoding="utf-8", errors="replace")
                    .splitlines()
                )
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc.strerror}") from None
        result = services.verify_audit_trail(trigger="command", external=lines)
        if result.ignored_lines:
            self.stderr.write(
                f"ignored {result.ignored_lines} line(s) that look like checkpoints "
                "but are not signed with the audit key"
            )
        if result.status != AuditVerification.Status.OK:
            self.stderr.write(f"FAILED: {result.problem}")
            sys.exit(1)
        missing = append_only.missing_triggers(connection)
        if missing:
            self.stderr.write(
                "FAILED: the audit tables' append-only triggers are missing: "
                + ", ".join(missing)
                + " (re-create them: see grantsconsole/grants/append_only.py)"
            )
            sys.exit(1)
        self.stdout.write(
            f"OK: {result.rows} audit rows and {result.checkpoints} checkpoints "
            f"verified in {result.duration_ms / 1000:.2f} s"
        )
        if options["checkpoint"]:
            cp = services.checkpoint_verified(trigger="command")
            if cp is None:
                self.stderr.write("FAILED: no checkpoint written (see the log)")
                sys.exit(1)
            self.stdout.write(
                f"checkpoint written: {cp.count} rows, head {cp.head_hash}"
            )
