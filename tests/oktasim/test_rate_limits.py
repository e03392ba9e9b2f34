"""Rate limits: per-bucket counts per window, X-Rate-Limit-* on every response,
429 E0000047, configurable limits and window, the concurrency limit."""

from __future__ import annotations

import threading
import time
from email.utils import parsedate_to_datetime

import requests

from .conftest import CONSOLE_ID, worker_token_request


def rl(resp) -> tuple[int, int, int]:
    h = resp.headers
    return (
        int(h["X-Rate-Limit-Limit"]),
        int(h["X-Rate-Limit-Remaining"]),
        int(h["X-Rate-Limit-Reset"]),
    )


def test_headers_on_every_response(sim, ssws):
    for resp in (
        ssws.get(f"{sim.url}/api/v1/apps"),
        ssws.get(f"{sim.url}/api/v1/apps/{CONSOLE_ID}"),
        ssws.get(f"{sim.url}/api/v1/apps/{CONSOLE_ID}/grants"),
        ssws.get(f"{sim.url}/api/v1/logs"),
        ssws.get(f"{sim.url}/api/v1/apps/0oa1doesnotexist00000"),
        requests.get(f"{sim.url}/api/v1/apps", timeout=5),
        worker_token_request(sim.url, "okta.apps.read"),
        requests.get(f"{sim.url}/oauth2/v1/keys", timeout=5),
        requests.get(f"{sim.url}/.well-known/openid-configuration", timeout=5),
    ):
        limit, remaining, reset = rl(resp)
        assert 0 <= remaining < limit
        assert reset > time.time()


def test_apps_bucket_is_shared_by_listing_and_grants_but_not_get_one_app(sim, ssws):
    a = rl(ssws.get(f"{sim.url}/api/v1/apps"))
    b = rl(ssws.get(f"{sim.url}/api/v1/apps/{CONSOLE_ID}/grants"))
    c = rl(ssws.get(f"{sim.url}/api/v1/apps/{CONSOLE_ID}"))
    assert a[:2] == (100, 99)
    assert b[:2] == (100, 98)
    assert c[:2] == (500, 499)
    assert rl(ssws.get(f"{sim.url}/api/v1/logs"))[0] == 120


def test_over_the_limit_is_429_until_the_window_resets(sim, ssws):
    sim.set_rate_limit("apps", 3)
    statuses = [ssws.get(f"{sim.url}/api/v1/apps").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    r = ssws.get(f"{sim.url}/api/v1/apps")
    assert r.json()["errorCode"] == "E0000047"
    assert (
        r.json()["errorSummary"]
        == "API call exceeded rate limit due to too many requests."
    )
    limit, remaining, reset = rl(r)
    assert (limit, remaining) == (3, 0)
    server_now = parsedate_to_datetime(r.headers["Date"]).timestamp()
    assert 0 < reset - server_now <= 61  # Date is whole seconds, Reset rounds up
    sim.advance_clock(reset - server_now + 1)
    again = ssws.get(f"{sim.url}/api/v1/apps")
    assert again.status_code == 200
    assert rl(again)[1] == 2
    assert [x["status"] for x in sim.requests()].count(429) == 3


def test_window_length_is_configurable(sim, ssws):
    sim.set_rate_limit("apps", 2, window_seconds=1)
    codes = [ssws.get(f"{sim.url}/api/v1/apps").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    time.sleep(1.1)
    assert ssws.get(f"{sim.url}/api/v1/apps").status_code == 200


def test_reset_with_rate_limit_sets_the_apps_bucket(sim, ssws):
    sim.reset(rate_limit=5)
    assert rl(ssws.get(f"{sim.url}/api/v1/apps"))[:2] == (5, 4)


def test_buckets_are_org_wide_across_callers(sim, ssws):
    sim.set_rate_limit("apps", 2)
    token = worker_token_request(sim.url, "okta.apps.read").json()["access_token"]
    ssws.get(f"{sim.url}/api/v1/apps")
    ssws.get(f"{sim.url}/api/v1/apps")
    r = requests.get(
        f"{sim.url}/api/v1/apps",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 429


def test_concurrency_limit_429_reports_limit_zero(sim, ssws):
    sim.set_rate_limit(concurrency=1)
    sim.fault(path="^/api/v1/apps$", kind="delay", delay=3)
    slow = threading.Thread(target=lambda: ssws.get(f"{sim.url}/api/v1/apps"))
    slow.start()
    deadline = time.monotonic() + 10
    while (
        requests.get(f"{sim.url}/__sim__/rate-limits", timeout=5).json()["in_flight"]
        < 1
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    r = requests.get(
        f"{sim.url}/api/v1/logs",
        headers={"Authorization": ssws.headers["Authorization"]},
        timeout=5,
    )
    slow.join()
    assert r.status_code == 429
    assert r.json()["errorCode"] == "E0000047"
    limit, remaining, _ = rl(r)
    assert (limit, remaining) == (0, 0)


def test_control_surface_is_not_rate_limited(sim):
    sim.set_rate_limit("other", 1)
    for _ in range(5):
        assert requests.get(f"{sim.url}/__sim__/health", timeout=5).status_code == 200
