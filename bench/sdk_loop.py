"""The same work as a full sync, written the way a user would with Okta's Python
SDK (``okta`` on PyPI, pinned in ``requirements-dev.txt``): list every app
page by page (Okta cannot filter by ``signOnMode``), keep the OIDC ones, then
list each of their grants, sequentially, with the SDK's own
retry settings (``rateLimit.maxRetries`` default 2: on a 429 it waits
``X-Rate-Limit-Reset - Date + 1`` s and repeats). Prints ``BENCH-RESULT {...}``.

Adaptation to the simulator (the smallest honest one): the SDK refuses an
``http://`` org URL unless its own config says ``testing.testingDisableHttpsCheck``;
that flag is set (through its environment variable
``OKTA_TESTING_TESTINGDISABLEHTTPSCHECK``, the SDK's own config mechanism). Authentication is the same worker service app the console's
sync uses (``authorizationMode: PrivateKey``, ``private_key_jwt``, scopes
``okta.apps.read okta.appGrants.read``), or with ``--ssws`` the demo Super Admin's
API token. Nothing else is changed.

    .venv/bin/python bench/sdk_loop.py --org-url http://127.0.0.1:PORT
        [--max-retries 2]

JSON: ``seconds``, ``apps`` (OIDC apps listed), ``apps_with_grants_read``,
``grants`` (total read), ``errors`` (SDK calls that returned an error, after its
retries), ``error_samples``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER_CLIENT_ID = "0oa1workerDEMO0000x7"
SSWS = "00demoSuperAdminSSWStoken0000000000000000"


async def run(org_url: str, ssws: bool, max_retries: int | None) -> dict:
    from okta.client import Client
    from okta.pagination import PaginationHelper

    # The SDK reads its "testing" section only from okta.yaml or the environment
    # (a dict passed to Client() lands under "client"): OKTA_TESTING_... is its
    # documented environment form of okta.testing.testingDisableHttpsCheck.
    os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"
    config: dict = {"orgUrl": org_url, "logging": {"enabled": False}}
    if ssws:
        config.update({"authorizationMode": "SSWS", "token": SSWS})
    else:
        key = (ROOT / "grantsconsole/oktasim/seed/worker-key.pem").read_text()
        config.update(
            {
                "authorizationMode": "PrivateKey",
                "clientId": WORKER_CLIENT_ID,
                "scopes": ["okta.apps.read", "okta.appGrants.read"],
                "privateKey": key,
            }
        )
    if max_retries is not None:
        config["rateLimit"] = {"maxRetries": max_retries}
    errors: list[str] = []
    started = time.monotonic()
    async with Client(config) as client:
        app_ids: list[str] = []
        after = None
        while True:
            apps, resp, err = await client.list_applications(limit=200, after=after)
            if err is not None:
                errors.append(f"list apps: {err}")
                break
            for item in apps:
                app = getattr(item, "actual_instance", item)
                mode = getattr(app, "sign_on_mode", None)
                if getattr(mode, "value", mode) == "OPENID_CONNECT":
                    app_ids.append(app.id)
            after = PaginationHelper.extract_next_cursor(resp.headers or {})
            if not after:
                break
        grants = 0
        read = 0
        for app_id in app_ids:
            result, _resp, err = await client.list_scope_consent_grants(app_id)
            if err is not None:
                errors.append(f"grants of {app_id}: {err}")
                continue
            read += 1
            grants += len(result or [])
    return {
        "seconds": time.monotonic() - started,
        "apps": len(app_ids),
        "apps_with_grants_read": read,
        "grants": grants,
        "errors": len(errors),
        "error_samples": [e[:300] for e in errors[:5]],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--org-url", required=True)
    parser.add_argument("--ssws", action="store_true")
    parser.add_argument("--max-retries", type=int, default=None)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    data = asyncio.run(run(args.org_url, args.ssws, args.max_retries))
    print("BENCH-RESULT " + json.dumps(data), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
