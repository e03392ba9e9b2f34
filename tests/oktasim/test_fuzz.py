"""Property tests: whatever a client sends, the simulator answers with Okta's
status and error JSON, never a 500 or a traceback, and keeps serving."""

from __future__ import annotations

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import SSWS_TOKEN

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
text = st.text(max_size=60)


@pytest.fixture(scope="module")
def http(sim_server):
    s = requests.Session()
    s.headers["Authorization"] = f"SSWS {SSWS_TOKEN}"
    yield s
    s.close()


def assert_okta(resp, allowed):
    assert resp.status_code in allowed, (resp.status_code, resp.text[:300])
    assert "Traceback" not in resp.text
    if resp.status_code >= 400:
        body = resp.json()
        assert body["errorCode"].startswith("E0000")
        assert body["errorId"].startswith("oae")


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda d: __import__("json").dumps(d).encode(),
            st.recursive(
                st.none() | st.booleans() | st.integers() | text,
                lambda c: (
                    st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3)
                ),
                max_leaves=8,
            ),
        ),
    ),
    ctype=st.sampled_from(
        ["application/json", "text/plain", "", "application/json; x=1"]
    ),
)
def test_grant_bodies(sim_server, http, body, ctype):
    sim_server.sim.limiter.configure({"apps": 10**9})  # hundreds of POSTs, one bucket
    r = http.post(
        f"{sim_server.url}/api/v1/apps/0oa1workerDEMO0000x7/grants",
        data=body,
        headers={"Content-Type": ctype} if ctype else {},
    )
    assert_okta(r, {200, 400, 415})


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["limit", "after", "filter", "q", "expand"]), text, max_size=4
    )
)
def test_apps_query_params(sim_server, http, params):
    sim_server.sim.limiter.configure({"apps": 10**9})
    assert_okta(http.get(f"{sim_server.url}/api/v1/apps", params=params), {200, 400})


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(
            ["limit", "after", "filter", "q", "since", "until", "sortOrder"]
        ),
        text
        | st.sampled_from(
            [
                'eventType eq "x"',
                "2026-11-01T00:00:00Z",
                "DESCENDING",
                "5",
                "1_1",
                'target.id sw "0oa" and not (actor.id pr)',
            ]
        ),
        max_size=5,
    )
)
def test_logs_query_params(sim_server, http, params):
    sim_server.sim.limiter.configure({"logs": 10**9})
    assert_okta(http.get(f"{sim_server.url}/api/v1/logs", params=params), {200, 400})


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    parts=st.lists(
        st.text(alphabet="abcdefgrantsoa0123456789._-", max_size=12), max_size=4
    ),
)
def test_any_api_path_and_method(sim_server, http, method, parts):
    sim_server.sim.limiter.configure({"apps": 10**9, "app": 10**9, "api": 10**9})
    path = "/api/v1/" + "/".join(parts)
    r = http.request(
        method, sim_server.url + path, json={} if method in ("POST", "PUT") else None
    )
    assert_okta(r, {200, 204, 400, 403, 404, 405, 415})
