"""The SDK loop's work with grantsconsole's own ``OktaClient`` and no database:
list the OIDC apps page by page (``iter_oidc_apps``), then ``list_grants`` per app,
as the worker service app (``private_key_jwt``). Separates the client's cost from
the sync's database work when the sync is compared with the SDK loop.
Prints ``BENCH-RESULT {...}`` with ``seconds``, ``cpu_seconds`` (this
process's CPU time over the same span), ``apps``, ``grants``,
``requests`` (the client's counter) and ``errors``.

    .venv/bin/python bench/client_loop.py --org-url http://127.0.0.1:PORT [--share 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grantsconsole.okta import OktaClient, OktaError, ServiceAppTokenSource  # noqa: E402

WORKER_CLIENT_ID = "0oa1workerDEMO0000x7"
SCOPES = ["okta.apps.read", "okta.appGrants.read", "okta.logs.read"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--org-url", required=True)
    parser.add_argument("--share", type=float, default=1.0)
    args = parser.parse_args()
    key = (ROOT / "grantsconsole/oktasim/seed/worker-key.pem").read_text()
    source = ServiceAppTokenSource(args.org_url, WORKER_CLIENT_ID, key, scopes=SCOPES)
    client = OktaClient(args.org_url, source, share=args.share)
    started = time.monotonic()
    cpu_started = time.process_time()
    apps = list(client.iter_oidc_apps())
    grants = errors = 0
    for app in apps:
        try:
            grants += len(client.list_grants(app.id))
        except OktaError:
            errors += 1
    data = {
        "seconds": time.monotonic() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "apps": len(apps),
        "grants": grants,
        "requests": client.request_count,
        "errors": errors,
    }
    print("BENCH-RESULT " + json.dumps(data), flush=True)


if __name__ == "__main__":
    main()
