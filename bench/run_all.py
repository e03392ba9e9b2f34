"""Run every benchmark of issue 8 in turn (one at a time: they would skew each
other's numbers on a 2-core machine) and print where each wrote its JSON.

    .venv/bin/python bench/run_all.py            # short sizes, about 10 minutes
    .venv/bin/python bench/run_all.py --full     # the issue's sizes, about an hour
    .venv/bin/python bench/run_all.py --only sync_floor pages

Each script prints its own table and writes ``bench/results/<name>-<UTC>.json``
(and ``<name>-latest.json``). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent

SHORT: dict[str, list[str]] = {
    "sync_floor": [],
    "sync_scale": [],
    "incremental": [],
    "pages": [],
    "interactive": [],
    "alert_latency": ["--changes", "5", "--spread", "60"],
    "usage_ingest": [],
}
FULL: dict[str, list[str]] = {
    "sync_floor": ["--apps", "1000"],
    "sync_scale": ["--sizes", "1000", "10000"],
    "incremental": ["--apps", "10000", "--changes", "10"],
    "pages": ["--audit", "1000000"],
    "interactive": ["--apps", "1000"],
    "alert_latency": [],
    "usage_ingest": [],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes")
    parser.add_argument("--only", nargs="+", choices=sorted(SHORT), default=None)
    args = parser.parse_args()
    plan = FULL if args.full else SHORT
    names = args.only or list(plan)
    failed = []
    for name in names:
        cmd = [sys.executable, str(BENCH / f"{name}.py"), *plan[name]]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        started = time.monotonic()
        rc = subprocess.call(cmd, cwd=BENCH.parent)
        print(
            f"=== {name}: exit {rc} after {time.monotonic() - started:.0f} s",
            flush=True,
        )
        if rc != 0:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
