"""``python -m grantsconsole.oktasim``: the simulator without Django (benchmarks).

Same options as ``python manage.py oktasim``; prints the org URL once listening.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import activity
from .server import SimServer


def main(argv: list[str] | None = None) -> None:
    """Parse the options, build the org, serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m grantsconsole.oktasim")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--seed", default="demo")
    parser.add_argument("--apps", type=int, default=None)
    parser.add_argument("--rate-limit", type=int, default=None, dest="rate_limit")
    parser.add_argument("--activity", type=float, default=None)
    parser.add_argument("--activity-days", type=float, default=90, dest="activity_days")
    args = parser.parse_args(argv)
    started = time.monotonic()
    server = SimServer(args.host, args.port, args.seed, args.apps, args.rate_limit)
    if args.activity:
        try:
            activity.begin(
                server.sim.org,
                server.sim.oauth,
                per_day=args.activity,
                days=args.activity_days,
            )
        except ValueError as e:
            parser.error(str(e))
    print(
        f"oktasim listening on {server.url} ({len(server.sim.org.apps)} apps, built in "
        f"{time.monotonic() - started:.2f} s)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
