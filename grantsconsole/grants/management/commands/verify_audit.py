"""``python manage.py verify_audit``: check the audit hash chain and checkpoints.

Exits 0 and prints "OK ..." when every row and checkpoint verifies; otherwise
prints the first bad row (its seq) or checkpoint to stderr and exits 1.
``--checkpoint`` also writes a fresh signed checkpoint after a clean check.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from grantsconsole.grants import audit


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and signed checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="store_true",
            help="After a clean check, write a new signed checkpoint of the head.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        result = audit.verify()
        elapsed = time.monotonic() - started
        if not result.ok:
            self.stderr.write(f"FAILED: {result.problem}")
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
