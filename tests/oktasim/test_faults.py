"""Every injected fault kind, over real HTTP."""

from __future__ import annotations

import json
import time

import pytest
import requests

APPS = "/api/v1/apps$"


def get_apps(sim, ssws, **kw):
    return ssws.get(f"{sim.url}/api/v1/apps", **kw)


def test_status_fault_sends_okta_error_then_stops(sim, ssws):
    sim.fault(path=APPS, status=500, times=2)
    first, second, third = (get_apps(sim, ssws) for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (500, 500, 200)
    assert first.json()["errorCode"] == "E0000009"
    assert first.json()["errorId"].startswith("oae")
    assert first.headers["X-Okta-Request-Id"]
    assert "X-Rate-Limit-Remaining" in first.headers
    assert [r.get("fault") for r in sim.requests()] == ["status", "status", None]


def test_status_fault_with_code_body_and_headers(sim, ssws):
    sim.fault(path=APPS, status=403, error_code="E0000005", headers={"X-Extra": "1"})
    r = get_apps(sim, ssws)
    assert (r.status_code, r.json()["errorCode"], r.headers["X-Extra"]) == (
        403,
        "E0000005",
        "1",
    )
    sim.fault(
        path=APPS, status=502, body="<html>Bad gateway</html>", content_type="text/html"
    )
    r = get_apps(sim, ssws)
    assert r.status_code == 502
    assert r.text == "<html>Bad gateway</html>"


def test_429_with_and_without_rate_limit_headers(sim, ssws):
    sim.fault(path=APPS, status=429)
    r = get_apps(sim, ssws)
    assert r.status_code == 429
    assert r.json()["errorCode"] == "E0000047"
    assert r.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(r.headers["X-Rate-Limit-Reset"]) > time.time()
    sim.fault(path=APPS, status=429, rate_limit_headers=False)
    r = get_apps(sim, ssws)
    assert r.status_code == 429
    assert not any(h.lower().startswith("x-rate-limit") for h in r.headers)


def test_method_filter(sim, ssws):
    sim.fault(path="/grants$", method="POST", status=500)
    app = sim.state()["apps"][0]["id"]
    assert ssws.get(f"{sim.url}/api/v1/apps/{app}/grants").status_code == 200
    r = ssws.post(
        f"{sim.url}/api/v1/apps/{app}/grants",
        json={"issuer": sim.url, "scopeId": "okta.logs.read"},
    )
    assert r.status_code == 500


def test_forever_until_cleared(sim, ssws):
    sim.fault(path=APPS, status=503, times=-1)
    assert [get_apps(sim, ssws).status_code for _ in range(3)] == [503, 503, 503]
    sim.clear_faults()
    assert get_apps(sim, ssws).status_code == 200


def test_delay(sim, ssws):
    sim.fault(path=APPS, kind="delay", delay=0.6)
    t = time.monotonic()
    assert get_apps(sim, ssws).status_code == 200
    assert time.monotonic() - t >= 0.6


def test_hang_times_the_client_out(sim, ssws):
    sim.fault(path=APPS, kind="hang", delay=3)
    with pytest.raises(requests.ReadTimeout):
        get_apps(sim, ssws, timeout=0.5)
    assert requests.get(f"{sim.url}/__sim__/health", timeout=5).ok


def test_drip_sends_the_body_slowly_but_whole(sim, ssws):
    sim.fault(path=APPS, kind="drip", chunk=2000, interval=0.2)
    t = time.monotonic()
    r = get_apps(sim, ssws, params={"limit": 5})
    assert r.status_code == 200
    assert len(r.json()) == 5
    assert time.monotonic() - t >= 0.2 * (len(r.content) // 2000 - 1)


def test_truncated_body_breaks_the_read(sim, ssws):
    sim.fault(path=APPS, kind="truncate")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get_apps(sim, ssws)
    assert get_apps(sim, ssws).status_code == 200


def test_malformed_json_with_200(sim, ssws):
    sim.fault(path=APPS, kind="malformed")
    r = get_apps(sim, ssws)
    assert r.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.text)


def test_html_with_200(sim, ssws):
    sim.fault(path=APPS, kind="html")
    r = get_apps(sim, ssws)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<html>" in r.text


def test_wrong_shape(sim, ssws):
    sim.fault(path=APPS, kind="wrong_shape")
    assert get_apps(sim, ssws).json() == {"unexpected": True}
    sim.fault(path=APPS, kind="wrong_shape", body=[{"id": 42}])
    assert get_apps(sim, ssws).json() == [{"id": 42}]


def test_huge_body(sim, ssws):
    sim.fault(path=APPS, kind="huge", size=3_000_000)
    r = get_apps(sim, ssws)
    assert int(r.headers["Content-Length"]) == 3_000_000
    assert len(r.content) == 3_000_000
    assert isinstance(r.json(), list)


def test_next_link_to_a_foreign_host(sim, ssws):
    sim.fault(path=APPS, kind="foreign_next")
    r = get_apps(sim, ssws, params={"limit": 2})
    assert r.links["next"]["url"].startswith("https://evil.example.net/api/v1/apps?")
    assert r.links["self"]["url"].startswith(sim.url)


def test_duplicated_rate_limit_headers(sim, ssws):
    sim.fault(path=APPS, kind="duplicate_headers")
    r = get_apps(sim, ssws)
    values = r.raw.headers.getlist("X-Rate-Limit-Remaining")
    assert len(values) == 2
    assert values[0] != values[1]


def test_dropped_connection(sim, ssws):
    sim.fault(path=APPS, kind="drop")
    with pytest.raises(requests.ConnectionError):
        get_apps(sim, ssws)
    assert get_apps(sim, ssws).status_code == 200


def test_faults_are_listed_and_counted(sim):
    sim.fault(path=APPS, status=500, times=3)
    rules = requests.get(f"{sim.url}/__sim__/faults", timeout=5).json()
    assert rules == [
        {
            "method": "*",
            "path": APPS,
            "kind": "status",
            "remaining": 3,
            "hits": 0,
            "status": 500,
        }
    ]


def test_faults_also_hit_the_org_authorization_server(sim):
    sim.fault(path="^/oauth2/v1/token$", status=503)
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert r.status_code == 503
