"""``python manage.py verify_audit [--against FILE ...] [--checkpoint]``.

Checks the audit hash chain, the signed checkpoints in the database, and the
signed checkpoint lines kept outside it: every ``--against`` file (e.g. an
export of the log drain; lines without a checkpoint are ignored) and
``settings.AUDIT_CHECKPOINT_FILE`` when set. Exits 0 and prints "OK ..." when
all verify; otherwise prints the first bad row (its seq) or checkpoint to
stderr and exits 1. ``--checkpoint`` writes a fresh signed checkpoint after a
clean check.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from grantsconsole.grants import append_only, audit


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
        files = list(options["against"])
        configured = getattr(settings, "AUDIT_CHECKPOINT_FILE", "")
        if configured and Path(configured).exists():
            files.append(configured)
        lines: list[str] = []
        for name in files:
            try:
                lines += (
                    Path(name)
                    .read_text(encoding="utf-8", errors="replace")
                    .splitlines()
                )
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc.strerror}") from None
        started = time.monotonic()
        result = audit.verify(external=lines)
        elapsed = time.monotonic() - started
        if not result.ok:
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
            f"verified in {elapsed:.2f} s"
        )
        if options["checkpoint"]:
            cp = audit.checkpoint()
            self.stdout.write(
                f"checkpoint written: {cp.count} rows, head {cp.head_hash}"
            )
