"""The importable SimServer: start on a free port, serve, stop cleanly even with a
hung request and idle keep-alive connections open."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from grantsconsole.oktasim.server import SimServer
from grantsconsole.oktasim.testing import SimControl, SimControlError


def test_start_url_and_stop_with_hung_and_idle_connections():
    srv = SimServer(port=0, seed="demo", rate_limit=50).start()
    try:
        assert srv.url == f"http://127.0.0.1:{srv.port}"
        control = SimControl(srv.url)
        assert control.state()["url"] == srv.url
        idle = requests.Session()
        r = idle.get(
            f"{srv.url}/api/v1/apps",
            headers={"Authorization": "SSWS 00demoSuperAdminSSWStoken0000000000000000"},
            timeout=5,
        )
        assert r.headers["X-Rate-Limit-Limit"] == "50"
        control.fault(path="^/api/v1/apps$", kind="hang", delay=600)
        outcome = {}

        def hung():
            try:
                requests.get(f"{srv.url}/api/v1/apps", timeout=30)
                outcome["result"] = "answered"
            except requests.RequestException as e:
                outcome["result"] = type(e).__name__

        t = threading.Thread(target=hung)
        t.start()
        time.sleep(0.3)
    finally:
        started = time.monotonic()
        srv.stop()
    t.join(10)
    assert time.monotonic() - started < 5
    assert outcome["result"] == "ConnectionError"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{srv.url}/__sim__/health", timeout=2)


def test_control_errors_raise_with_status(sim):
    with pytest.raises(SimControlError) as err:
        sim.oob_grant("0oa1doesnotexist00000", "okta.users.read")
    assert err.value.status == 404
    with pytest.raises(SimControlError) as err:
        sim.oob_grant("0oa1consoleDEMO000x7", "okta.apps.read")  # already granted
    assert err.value.status == 400
