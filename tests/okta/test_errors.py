"""Every error kind, produced by the simulator's fault injection over real HTTP."""

import time

import pytest
import requests

from grantsconsole.okta import (
    OktaClient,
    OktaConnectionError,
    OktaForeignLink,
    OktaInsufficientScope,
    OktaMalformedResponse,
    OktaNotFound,
    OktaPermissionDenied,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaUnauthorized,
    OktaValidationError,
    SkippedApp,
    SswsTokenSource,
)

from .conftest import SSWS_TOKEN

GRANTS = "/api/v1/apps/0oa1consoleDEMO000x7/grants$"
CONSOLE = "0oa1consoleDEMO000x7"


def client_for(sim, clock, **kw):
    return OktaClient(sim.url, SswsTokenSource(SSWS_TOKEN), clock=clock, **kw)


def hits(sim, path_regex_tail):
    return [r for r in sim.requests() if r["path"].endswith(path_regex_tail)]


def test_unauthorized(sim, clock):
    client = OktaClient(sim.url, SswsTokenSource("00notAValidToken"), clock=clock)
    with pytest.raises(OktaUnauthorized) as err:
        client.list_grants(CONSOLE)
    assert err.value.status == 401
    assert err.value.error_code == "E0000011"
    assert err.value.error_id.startswith("oae")
    assert err.value.request_id
    assert "Sign in again" in err.value.explanation
    assert client.request_count == 1  # SSWS cannot refresh: no second try


def test_insufficient_scope_dpop_form(sim, clock):
    dpop = (
        'DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", '
        f'authorization_uri="{sim.url}/oauth2/v1/authorize", realm="{sim.url}", '
        'scope="okta.appGrants.read", error="insufficient_scope", '
        'error_description="The access token provided does not contain the required '
        'scopes.", resource="/api/v1/apps"'
    )
    sim.fault(GRANTS, status=403, headers={"WWW-Authenticate": dpop})
    with pytest.raises(OktaInsufficientScope) as err:
        client_for(sim, clock).list_grants(CONSOLE)
    assert err.value.scope == "okta.appGrants.read"
    assert "okta.appGrants.read" in str(err.value)


def test_permission_denied(sim, clock):
    sim.fault(GRANTS, status=403)
    with pytest.raises(OktaPermissionDenied) as err:
        client_for(sim, clock).list_grants(CONSOLE)
    assert err.value.error_code == "E0000006"
    assert "admin role" in err.value.explanation


def test_not_found_and_validation(sim, clock):
    client = client_for(sim, clock)
    with pytest.raises(OktaNotFound):
        client.list_grants("0oa1doesNotExist000x7")
    with pytest.raises(OktaValidationError) as err:
        client.list_app_page(after="not-a-cursor")
    assert err.value.error_code == "E0000029"
    sim.fault(GRANTS, status=400, error_code="E0000001")
    with pytest.raises(OktaValidationError):
        client.list_grants(CONSOLE)


def test_rate_limited_when_retries_are_spent(sim, clock):
    sim.fault(GRANTS, status=429, times=-1)
    client = client_for(sim, clock, max_retries=2)
    with pytest.raises(OktaRateLimited) as err:
        client.list_grants(CONSOLE)
    assert err.value.status == 429
    assert err.value.error_code == "E0000047"
    assert err.value.retry_after is not None
    assert 0 <= err.value.retry_after <= 61
    assert not err.value.concurrency
    assert len(hits(sim, "/grants")) == 3  # bounded: 1 + max_retries


def test_server_error_retried_then_surfaced(sim, clock):
    client = client_for(sim, clock)
    sim.fault(GRANTS, status=502, times=2)
    assert client.list_grants(CONSOLE)
    assert [r["status"] for r in hits(sim, "/grants")] == [502, 502, 200]
    sim.fault(GRANTS, status=500, times=-1)
    with pytest.raises(OktaServerError) as err:
        client.list_grants(CONSOLE)
    assert err.value.status == 500
    assert len(hits(sim, "/grants")) == 3 + 1 + client.transport.max_retries


def test_timeout(sim, clock):
    sim.fault(GRANTS, kind="hang", delay=1)
    client = client_for(sim, clock, timeout=(2, 0.3), max_retries=0)
    with pytest.raises(OktaTimeout) as err:
        client.list_grants(CONSOLE)
    assert err.value.status is None
    # With retries the hung request is repeated and the next answer is used.
    sim.fault(GRANTS, kind="hang", delay=1)
    assert client_for(sim, clock, timeout=(2, 0.3)).list_grants(CONSOLE)
    wait_for_hung_requests(sim, 2)


def wait_for_hung_requests(sim, count):
    """A hung request is logged when the simulator gives up on it; wait for that,
    so it cannot land in the next test's request log."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sum(r.get("fault") == "drop" for r in sim.requests()) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("hung requests were not released")


def test_slow_drip_is_a_timeout_not_a_hang(sim, clock):
    sim.fault(GRANTS, kind="drip", chunk=8, interval=0.2)
    client = client_for(sim, clock, max_retries=0)
    client.transport.total_timeout = 0.5
    with pytest.raises(OktaTimeout):
        client.list_grants(CONSOLE)


def test_dropped_connection(sim, clock):
    sim.fault(GRANTS, kind="drop")
    with pytest.raises(OktaConnectionError):
        client_for(sim, clock, max_retries=0).list_grants(CONSOLE)
    sim.fault(GRANTS, kind="drop")
    assert client_for(sim, clock).list_grants(CONSOLE)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("malformed", {}),
        ("html", {}),
        ("wrong_shape", {}),
        ("huge", {"size": 3_000_000}),
    ],
)
def test_malformed_bodies_are_errors_never_empty_lists(sim, clock, kind, options):
    sim.fault(GRANTS, kind=kind, **options)
    client = client_for(sim, clock)
    client.transport.max_response_bytes = 1_000_000
    with pytest.raises(OktaMalformedResponse):
        client.list_grants(CONSOLE)
    sim.fault("/api/v1/apps$", kind=kind, **options)
    with pytest.raises(OktaMalformedResponse):
        client.list_app_page()


def test_one_unreadable_grant_fails_the_whole_list(sim, clock):
    """A partial grant list would look like revoked grants: it is an error."""
    sim.fault(GRANTS, kind="wrong_shape", body=[{"id": "oag1", "noScope": True}])
    with pytest.raises(OktaMalformedResponse):
        client_for(sim, clock).list_grants(CONSOLE)


def test_truncated_get_is_repeated(sim, clock):
    sim.fault(GRANTS, kind="truncate")
    assert client_for(sim, clock).list_grants(CONSOLE)
    assert len(hits(sim, "/grants")) == 2


def test_one_bad_app_is_reported_and_skipped(sim, clock):
    raw = requests.get(
        f"{sim.url}/api/v1/apps",
        params={"filter": 'name eq "oidc_client"', "limit": 3},
        headers={"Authorization": f"SSWS {SSWS_TOKEN}"},
        timeout=10,
    ).json()
    assert len(raw) == 3
    bad = [{"id": "0oa1broken00000000x7", "label": 7}, "not an object"]
    sim.fault("/api/v1/apps$", status=200, body=[raw[0], *bad, raw[1], raw[2]])
    skipped: list[SkippedApp] = []
    apps = list(client_for(sim, clock).iter_oidc_apps(on_skip=skipped.append))
    assert [a.id for a in apps] == [r["id"] for r in raw]
    assert [s.app_id for s in skipped] == ["0oa1broken00000000x7", ""]
    assert all(s.reason for s in skipped)


def test_foreign_next_link_is_refused(sim, clock):
    sim.reset(apps=450)
    sim.fault("/api/v1/apps$", kind="foreign_next")
    client = client_for(sim, clock)
    with pytest.raises(OktaForeignLink):
        list(client.iter_oidc_apps())
    assert all("evil" not in r["path"] for r in sim.requests())


def test_duplicated_rate_limit_headers_are_not_trusted(sim, clock):
    sim.fault(GRANTS, kind="duplicate_headers", times=-1)
    client = client_for(sim, clock)
    for _ in range(3):
        assert client.list_grants(CONSOLE)
    assert clock.slept == []  # nothing believed, nothing waited for


def test_redirects_are_not_followed_with_the_token(sim, clock):
    sim.fault(
        GRANTS, status=302, headers={"Location": "https://evil.example.net/steal"}
    )
    with pytest.raises(OktaMalformedResponse) as err:
        client_for(sim, clock).list_grants(CONSOLE)
    assert err.value.status == 302
    assert len(hits(sim, "/grants")) == 1
