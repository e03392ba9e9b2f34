"""The simulator's System Log at 200,000+ events: CPU time of a filtered page
of 1,000 (the whole ``GET /api/v1/logs``: query, rendering, JSON), best of 3,
and of a filter that matches nothing (a scan of the whole 90 days).

    .venv/bin/python bench/sim_log_query.py

CPU time of this thread, measured in-process, so a busy machine counts less.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grantsconsole.oktasim import activity
from grantsconsole.oktasim.seed import DEMO_SSWS_TOKEN
from grantsconsole.oktasim.server import Simulator
from grantsconsole.oktasim.shapes import iso
from grantsconsole.oktasim.web import Request

DAY = 86400.0
FILTERS = (
    ('eventType eq "user.lifecycle.create"', 1000),
    ('eventType sw "app.oauth2.token.grant"', 1000),
    ('outcome.reason eq "no_matching_scope"', 1000),
    ('client.id eq "0oa1nobody"', 0),
)


def main() -> None:
    sim = Simulator("http://127.0.0.1:9")
    started = time.monotonic()
    activity.simulate(sim.org, sim.oauth, days=90, per_day=90, seed=1)
    print(
        f"generated {len(sim.org.events):,} events in "
        f"{time.monotonic() - started:.1f} s"
    )
    since = iso(sim.clock.now() - 89 * DAY)
    headers = {"authorization": f"SSWS {DEMO_SSWS_TOKEN}"}
    print("| filter | events in page | best CPU ms of 3 |")
    print("|---|---|---|")
    for filt, expect in FILTERS:
        target = "/api/v1/logs?" + urlencode(
            {"since": since, "limit": 1000, "filter": filt}
        )
        took = []
        for _ in range(3):
            req = Request.build("GET", target, headers, b"", "req1")
            began = time.thread_time()
            resp = sim.handle(req)
            took.append(time.thread_time() - began)
            assert resp.status == 200, resp.status
            assert len(json.loads(resp.body)) == expect
        print(f"| `{filt}` | {expect} | {min(took) * 1000:.1f} |")


if __name__ == "__main__":
    main()
