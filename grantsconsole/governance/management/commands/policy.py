"""``python manage.py policy plan | validate FILE | evaluate``.

- ``plan``: print what to grant and revoke to match the policy in force, in
  the order it would run (``terraform plan``). Exit codes as Terraform's
  ``-detailed-exitcode``: 0 no changes, 2 changes planned, 1 error (no policy
  in force, or the policy file was refused: the plan is then against the last
  valid version, printed, and the exit code is still 1).
- ``validate FILE``: check a policy file; prints each problem (line, rule,
  why) and exits 1 when it is invalid, 0 when valid. Stores nothing.
- ``evaluate``: evaluate the policy in force now and print the counts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from grantsconsole.governance import plans, policies
from grantsconsole.governance.policy import PolicyInvalid, parse


class Command(BaseCommand):
    help = "Plan, validate or evaluate the grants policy."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("plan", help="What to grant and revoke to match the policy.")
        validate = sub.add_parser("validate", help="Check a policy file.")
        validate.add_argument("file")
        sub.add_parser("evaluate", help="Evaluate the policy now.")

    def handle(self, *args: Any, **options: Any) -> None:
        sys.exit(getattr(self, f"_{options['action']}")(**options))

    def _validate(self, file: str, **_: Any) -> int:
        try:
            parse(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            self.stderr.write(f"cannot read {file}: {exc.strerror}")
            return 1
        except PolicyInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(f"{file}: {problem}")
            return 1
        self.stdout.write(f"{file}: valid")
        return 0

    def _plan(self, **_: Any) -> int:
        state = policies.load_file()
        plan = plans.make_plan()
        if state.state in ("refused", "unreadable"):
            self.stderr.write(f"the policy file {state.path} is {state.state}:")
            for problem in state.problems:
                self.stderr.write(f"  {problem}")
            if state.error:
                self.stderr.write(f"  {state.error}")
            self.stderr.write("planning against the last valid version.")
        self.stdout.write(plans.render(plan), ending="")
        if plan.version is None or state.state in ("refused", "unreadable"):
            return 1
        return 2 if plan.steps else 0

    def _evaluate(self, **_: Any) -> int:
        result = policies.evaluate()
        if result.version is None:
            self.stderr.write("no policy in force")
            return 1
        self.stdout.write(
            f"policy v{result.version}: {result.opened} opened, "
            f"{result.resolved} resolved, {result.open} open"
        )
        return 0
