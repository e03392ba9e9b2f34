"""Pacing and 429 handling against the simulator's rate limits (virtual time)."""

import math
import time

import pytest
import requests

from grantsconsole.okta import OktaClient, SswsTokenSource

from .conftest import SSWS_TOKEN, WORKER_ID

LIMIT, WINDOW = 20, 5
CONSOLE_GRANTS = "/api/v1/apps/0oa1consoleDEMO000x7/grants$"


class RecordingSession(requests.Session):
    """A requests.Session that remembers the non-secret headers it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict]] = []

    def request(self, method, url, **kw):
        headers = dict((kw.get("headers") or {}).items())
        headers.pop("Authorization", None)
        self.sent.append((method, url, headers))
        return super().request(method, url, **kw)


def windows_of(times: list[float], window: float) -> list[int]:
    """Requests per window, replaying the simulator's windows (a window opens on
    the whole second of the first request after the previous one ended, and ends
    at the X-Rate-Limit-Reset it announces)."""
    counts: list[int] = []
    start = None
    for t in sorted(times):
        if start is None or t >= start + window:
            start = math.floor(t)
            counts.append(0)
        counts[-1] += 1
    return counts


def full_listing(client):
    apps = list(client.iter_oidc_apps())
    return apps, {app.id: client.list_grants(app.id) for app in apps}


@pytest.mark.parametrize("share", [0.5, 1.0])
def test_full_listing_stays_within_the_share_with_no_429(
    sim, worker_source, clock, share
):
    sim.reset(apps=450)
    sim.set_rate_limit("apps", limit=LIMIT, window_seconds=WINDOW)
    client = OktaClient(sim.url, worker_source, share=share, clock=clock)
    start = clock.now()
    apps, _grants = full_listing(client)
    elapsed = clock.now() - start
    log = [r for r in sim.requests() if r["bucket"] == "apps"]
    assert [r for r in log if r["status"] != 200] == []  # zero 429s
    needed = math.ceil(len(apps) / 200) + len(apps)
    assert len(log) == needed == client.request_count
    per_window = math.floor(LIMIT * share)
    counts = windows_of([r["time"] for r in log], WINDOW)
    assert max(counts) <= per_window
    windows = math.ceil(needed / per_window)
    assert len(counts) == windows  # no window wasted
    # Never faster than the limit allows (a window opens on a whole second, so it
    # may be up to 1 s shorter than WINDOW), and no window wasted: no slower than
    # the windows themselves plus a little latency.
    assert (windows - 1) * (WINDOW - 1) <= elapsed <= (windows - 1) * WINDOW + 2


def test_bucket_drained_by_another_tool_mid_listing(sim, worker_source, clock):
    """Another client empties the shared bucket twice: we wait, fail nothing,
    repeat nothing that succeeded."""
    sim.reset(apps=450)
    sim.set_rate_limit("apps", limit=LIMIT, window_seconds=WINDOW)
    client = OktaClient(sim.url, worker_source, clock=clock)
    other = requests.Session()
    other.headers["Authorization"] = f"SSWS {SSWS_TOKEN}"

    def drain():
        while (
            other.get(f"{sim.url}/api/v1/apps?limit=1", timeout=10).status_code != 429
        ):
            pass

    apps = []
    for index, app in enumerate(client.iter_oidc_apps()):
        apps.append(app)
        if index in (100, 300):
            drain()
        client.list_grants(app.id)
    ours = [r for r in sim.requests() if r["caller"] == WORKER_ID]
    grant_reads = [r for r in ours if r["path"].endswith("/grants")]
    ok = [r["path"] for r in grant_reads if r["status"] == 200]
    assert len(ok) == len(set(ok)) == len(apps)  # each app's grants read once
    assert len({a.id for a in apps}) == len(apps)
    # Each drain ends with the other tool's own 429; any 429 we got was
    # absorbed by a wait and a retry (at most one per drain).
    rejected = [r for r in sim.requests() if r["status"] == 429]
    assert len(rejected) - 2 == client.transport.rate_limited <= 2


def test_429_waits_for_okta_reset_and_sends_retry_headers(sim, clock):
    session = RecordingSession()
    client = OktaClient(
        sim.url, SswsTokenSource(SSWS_TOKEN), clock=clock, session=session
    )
    sim.fault(CONSOLE_GRANTS, status=429)
    assert client.list_grants("0oa1consoleDEMO000x7")
    first, second = (r for r in sim.requests() if r["path"].endswith("/grants"))
    assert (first["status"], second["status"]) == (429, 200)
    retry_headers = session.sent[-1][2]
    assert retry_headers["X-Okta-Retry-For"] == first["request_id"]
    assert retry_headers["X-Okta-Retry-Count"] == "1"
    assert "X-Okta-Retry-For" not in session.sent[0][2]
    (wait,) = clock.slept
    # Reset - Date (a 60 s window, both whole seconds: <= 61 s) + 1 s + jitter
    assert 1.0 <= wait <= 62.5


@pytest.mark.parametrize(
    "headers",
    [
        # concurrency limit: Limit 0, Remaining 0, Reset only a suggestion
        {"X-Rate-Limit-Limit": "0", "X-Rate-Limit-Remaining": "0"},
        # no rate-limit headers at all
        {},
        # a garbled Reset
        {"X-Rate-Limit-Limit": "100", "X-Rate-Limit-Remaining": "0"},
    ],
)
def test_429_without_usable_headers_backs_off_briefly(sim, clock, headers):
    extra = dict(headers)
    if extra:
        extra["X-Rate-Limit-Reset"] = (
            str(int(time.time()) + 60) if extra["X-Rate-Limit-Limit"] == "0" else "soon"
        )
    sim.fault(
        CONSOLE_GRANTS, status=429, rate_limit_headers=False, headers=extra, times=2
    )
    client = OktaClient(sim.url, SswsTokenSource(SSWS_TOKEN), clock=clock)
    assert client.list_grants("0oa1consoleDEMO000x7")
    assert len(clock.slept) == 2
    assert clock.slept[0] <= 0.5  # capped exponential backoff with jitter
    assert clock.slept[1] <= 1.0
    assert clock.slept[1] >= 0.5


def test_duplicated_reset_header_on_429_backs_off(sim, clock):
    sim.fault(CONSOLE_GRANTS, status=429, headers={"X-Rate-Limit-Reset": "1"})
    client = OktaClient(sim.url, SswsTokenSource(SSWS_TOKEN), clock=clock)
    assert client.list_grants("0oa1consoleDEMO000x7")
    assert clock.slept[0] <= 0.5


def test_pacing_sleeps_until_reset_by_okta_clock_even_with_skew(sim, clock):
    """The simulator's clock is hours ahead of ours: waits stay window-sized."""
    sim.advance_clock(7 * 3600)
    sim.set_rate_limit("apps", limit=4, window_seconds=WINDOW)
    client = OktaClient(sim.url, SswsTokenSource(SSWS_TOKEN), clock=clock)
    for _ in range(6):
        client.list_grants("0oa1consoleDEMO000x7")
    assert all(r["status"] == 200 for r in sim.requests())
    assert len(clock.slept) == 2  # 2 per window at share 0.5: two waits
    assert all(0 < s <= WINDOW + 1.2 for s in clock.slept)


def test_one_client_shared_by_threads_stays_within_the_share(sim, worker_source):
    """Real time, 4 threads on one client: slots in flight count against the share."""
    import threading

    limit, window = 10, 2
    sim.set_rate_limit("apps", limit=limit, window_seconds=window)
    client = OktaClient(sim.url, worker_source, share=0.5)
    errors: list[BaseException] = []

    def work():
        try:
            for _ in range(5):
                client.list_grants("0oa1consoleDEMO000x7")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    log = [r for r in sim.requests() if r["bucket"] == "apps"]
    assert [r["status"] for r in log] == [200] * 20
    assert max(windows_of([r["time"] for r in log], window)) <= 5


def test_interactive_client_never_waits_longer_than_max_wait(sim, clock, admin_tokens):
    """The console's client (max_wait=5): a click gets 'try again in N s', not a
    minute-long web request."""
    from grantsconsole.okta import OktaRateLimited

    from .conftest import user_source

    sim.set_rate_limit("apps", limit=2, window_seconds=60)
    client = OktaClient(
        sim.url, user_source(sim, admin_tokens, clock), clock=clock, max_wait=5
    )
    client.list_grants("0oa1consoleDEMO000x7")  # our share (1 of 2) is now used
    with pytest.raises(OktaRateLimited) as paced:
        client.list_grants("0oa1consoleDEMO000x7")
    assert 50 <= paced.value.retry_after <= 62
    assert paced.value.status is None  # decided locally: nothing was sent
    assert clock.slept == []
    assert len(sim.requests()) == 1

    sim.reset()  # a fresh window, then Okta itself answers 429 to the POST
    sim.fault("/api/v1/apps/0oa1workerDEMO0000x7/grants$", method="POST", status=429)
    client = OktaClient(
        sim.url, user_source(sim, admin_tokens, clock), clock=clock, max_wait=5
    )
    with pytest.raises(OktaRateLimited) as rejected:
        client.grant_scope("0oa1workerDEMO0000x7", "okta.groups.read")
    assert rejected.value.status == 429
    assert rejected.value.retry_after > 5
    assert clock.slept == []
    assert [(r["method"], r["status"]) for r in sim.requests()] == [("POST", 429)]


def test_client_roles_are_paced_apart_from_the_rest_of_the_api(sim, ssws_client):
    """Okta meters ``/oauth2/v1/clients*`` apart from ``/api/v1/*``: reading a
    service app's roles and its custom role's resource set in turn (as the
    sync does) spends the clients bucket's share in full, never more, with no
    429 and no window wasted."""
    sim.set_rate_limit("clients", limit=LIMIT, window_seconds=WINDOW)
    app = next(a for a in sim.state()["apps"] if a["label"] == "Org2Org Bridge")
    for _ in range(LIMIT):
        (role,) = ssws_client.list_client_roles(app["client_id"])
        ssws_client.get_resource_set(role.resource_set_id)
    log = [r for r in sim.requests() if r["bucket"] == "clients"]
    assert len(log) == LIMIT
    assert [r for r in log if r["status"] != 200] == []  # zero 429s
    assert windows_of([r["time"] for r in log], WINDOW) == [LIMIT // 2] * 2
