"""Okta faults, end to end: the simulator misbehaves through ``/__sim__/faults``
while the real full sync (worker client, service-app token, over HTTP) or an
admin's grant through the console runs. What must hold afterwards: nothing the
fault hid is deleted or invented locally, every real change has exactly one
audit row, and the user sees a clear answer.

The client's own handling of each fault (waits, retries, parsing) is tested in
tests/okta; these drills check what the whole product does with it. The worker
client here has a 3 s read timeout (production: 30 s) so hung connections fit
the suite's time budget; everything else is the production configuration.
"""

from __future__ import annotations

import time

import pytest
import requests
from django.conf import settings

from grantsconsole.grants import audit, services
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant, SyncRun
from grantsconsole.okta import OktaClient, ServiceAppTokenSource
from grantsconsole.okta_clients import WORKER_SCOPES, forget_worker_clients
from tests.accounts import flow
from tests.console.conftest import okta_grants, signed_in, web_app

pytestmark = pytest.mark.django_db

CHANGE_ACTIONS = ("external_grant", "external_revoke", "app_removed")


@pytest.fixture
def worker(sim):
    """The worker's client as production builds it, with a short read timeout."""
    sim.set_rate_limit("apps", 100_000, window_seconds=2)
    forget_worker_clients()
    source = ServiceAppTokenSource(
        sim.url,
        settings.OKTA_WORKER_CLIENT_ID,
        settings.OKTA_WORKER_PRIVATE_KEY,
        key_id=settings.OKTA_WORKER_KEY_ID or None,
        scopes=list(WORKER_SCOPES),
    )
    return OktaClient(
        sim.url, source, share=settings.OKTA_RATE_LIMIT_SHARE, timeout=(2, 3)
    )


def oidc_apps(sim) -> list[dict]:
    return [
        a
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
        and not a["id"].endswith(("DEMO000x7", "DEMO0000x7"))
    ]


def okta_held(sim) -> dict[str, set[str]]:
    return {
        a["id"]: {g["scopeId"] for g in a["grants"]}
        for a in sim.state()["apps"]
        if a["sign_on_mode"] == "OPENID_CONNECT"
    }


def db_held() -> dict[str, set[str]]:
    held = {
        okta_id: set()
        for okta_id in OktaApp.objects.filter(removed_at=None).values_list(
            "okta_id", flat=True
        )
    }
    for okta_id, scope_id in ScopeGrant.objects.filter(
        revoked_at=None, app__removed_at=None
    ).values_list("app__okta_id", "scope_id"):
        held[okta_id].add(scope_id)
    return held


def change_rows(after_seq: int) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(seq__gt=after_seq, action__in=CHANGE_ACTIONS)
        .order_by("seq")
        .values_list("action", "app_okta_id", "scope_id")
    )


def head() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def drift(sim, apps: list[dict]) -> list[tuple[str, str, str]]:
    """One out-of-band change per app; the audit rows a sync must write."""
    expected = []
    for i, app in enumerate(apps):
        held = sorted(g["scopeId"] for g in app["grants"])
        fresh = next(
            s
            for s in ("okta.groups.read", "okta.users.read", "okta.logs.read")
            if s not in held
        )
        if i % 2 and held:
            sim.oob_revoke(app["id"], held[0], actor_login="org.admin@example.com")
            expected.append(("external_revoke", app["id"], held[0]))
        else:
            sim.oob_grant(app["id"], fresh, actor_login="org.admin@example.com")
            expected.append(("external_grant", app["id"], fresh))
    return expected


def synced_then_drifted(sim, worker, victims: int):
    """Baseline full sync; then Okta changes on ``victims`` apps spaced apart
    (never three in a row, so per-app failures never look like an outage) and on
    the apps between them. Returns (victim apps, expected change rows, the
    audit head before the next sync)."""
    first = services.run_full_sync(client=worker, trigger="drill")
    assert first.status == SyncRun.Status.SUCCEEDED, first.message
    apps = oidc_apps(sim)
    chosen = apps[::3][:victims]
    assert len(chosen) == victims, "the org has too few apps"
    before = head()
    return chosen, drift(sim, apps[: 3 * victims]), before


def sim_faults(sim) -> list[dict]:
    """The simulator's fault rules with their hit counts (``GET /__sim__/faults``)."""
    return requests.get(f"{sim.url}/__sim__/faults", timeout=10).json()


def rule(fault: dict, victim: dict) -> dict:
    fault = dict(fault)
    if "reset_in" in fault:
        fault.setdefault("headers", {})["X-Rate-Limit-Reset"] = str(
            int(time.time()) + fault.pop("reset_in")
        )
    return {"method": "GET", "path": f"/api/v1/apps/{victim['id']}/grants$", **fault}


# Faults that clear: the sync must ride them out and end equal to Okta.
TRANSIENT = {
    "429-with-headers": {"kind": "status", "status": 429, "times": 2},
    "429-without-headers": {
        "kind": "status",
        "status": 429,
        "rate_limit_headers": False,
        "times": 2,
    },
    "429-concurrency": {
        "kind": "status",
        "status": 429,
        "rate_limit_headers": False,
        "headers": {"X-Rate-Limit-Limit": "0", "X-Rate-Limit-Remaining": "0"},
        "reset_in": 60,  # "only a suggested value": not to be trusted
        "times": 2,
    },
    "duplicated-headers": {"kind": "duplicate_headers", "times": 3},
    "500-on-read": {"kind": "status", "status": 500, "times": 2},
    "503-on-read": {"kind": "status", "status": 503, "times": 2},
    "hung-connection": {"kind": "hang", "delay": 8, "times": 1},
    "dripping-body": {"kind": "drip", "chunk": 16, "interval": 0.1, "times": 1},
    "truncated-json": {"kind": "truncate", "times": 1},
    "dropped-connection": {"kind": "drop", "times": 1},
}

# Faults that persist: the victim's grants stay as last known, marked unknown.
PERSISTENT = {
    "truncated-json": {"kind": "truncate"},
    "html-with-200": {"kind": "html"},
    "not-json-with-200": {"kind": "malformed"},
    "object-not-list": {"kind": "wrong_shape", "body": {}},
    "items-missing-fields": {
        "kind": "wrong_shape",
        "body": [{"scopeId": "okta.users.manage"}, {"id": "oag1", "scopeId": 7}],
    },
    "empty-list-as-string": {"kind": "wrong_shape", "body": "[]"},
    "huge-body": {"kind": "huge", "size": 12_000_000},
    "500-forever": {"kind": "status", "status": 500},
    "404-app-grants": {"kind": "status", "status": 404},
}


@pytest.mark.design("A-5", "A-6", "A-7", "A-8", "A-9")
def test_sync_rides_out_transient_faults(sim, worker, ledger):
    """Each app of a set gets a different fault that clears; one full sync."""
    victims, expected, before = synced_then_drifted(sim, worker, len(TRANSIENT))
    for victim, fault in zip(victims, TRANSIENT.values(), strict=True):
        sim.fault(**rule(fault, victim))
    started = time.monotonic()

    run = services.run_full_sync(client=worker, trigger="drill", sleep=lambda s: None)

    assert run.status == SyncRun.Status.SUCCEEDED, (run.status, run.message)
    assert time.monotonic() - started < 60
    hits = {f["path"]: f["hits"] for f in sim_faults(sim)}
    for victim, name in zip(victims, TRANSIENT, strict=True):
        assert hits[f"/api/v1/apps/{victim['id']}/grants$"] >= 1, name
    assert ledger.grants(db_held(), okta_held(sim)) == (0, 0)
    assert ledger.audit(expected, change_rows(before)) == (0, 0)
    assert audit.verify().ok


@pytest.mark.design("A-7", "A-9")
def test_persistent_faults_never_rewrite_their_apps(sim, worker, ledger):
    """Each app of a set gets a different fault that persists: those apps keep
    their last known grants (marked unknown); every other app is synced."""
    victims, expected, before = synced_then_drifted(sim, worker, len(PERSISTENT))
    known = db_held()
    for victim, fault in zip(victims, PERSISTENT.values(), strict=True):
        sim.fault(**rule({**fault, "times": -1}, victim))

    run = services.run_full_sync(client=worker, trigger="drill", sleep=lambda s: None)

    assert run.status == SyncRun.Status.PARTIAL, (run.status, run.message)
    ids = {v["id"] for v in victims}
    assert set(run.errors) == ids
    for victim, name in zip(victims, PERSISTENT, strict=True):
        row = OktaApp.objects.get(okta_id=victim["id"])
        assert row.grants_state == OktaApp.GrantsState.UNKNOWN, name
        assert row.removed_at is None, name
        assert row.grants_error, name
        assert "Traceback" not in row.grants_error, name
    # The victims keep what was last known; every other app equals Okta.
    want = okta_held(sim) | {i: known[i] for i in ids}
    assert ledger.grants(db_held(), want) == (0, 0)
    others = [e for e in expected if e[1] not in ids]
    assert ledger.audit(others, change_rows(before)) == (0, 0)
    assert audit.verify().ok


@pytest.mark.design("A-9", "A-10")
@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "foreign_next"},
        {"kind": "wrong_shape", "body": {"apps": []}},
        {"kind": "html"},
        {"kind": "status", "status": 403},
    ],
    ids=["next-link-to-foreign-host", "wrong-shape", "html-with-200", "403"],
)
def test_a_bad_listing_fails_the_sync_and_removes_nothing(sim, worker, ledger, fault):
    services.run_full_sync(client=worker, trigger="drill")
    before_state, before_seq = db_held(), head()
    sim.fault(method="GET", path=r"^/api/v1/apps$", times=-1, **fault)

    run = services.run_full_sync(client=worker, trigger="drill", sleep=lambda s: None)

    assert run.status == SyncRun.Status.FAILED, (run.status, run.message)
    assert not OktaApp.objects.filter(removed_at__isnull=False).exists()
    assert ledger.grants(db_held(), before_state) == (0, 0)
    assert ledger.audit([], change_rows(before_seq)) == (0, 0)
    hosts = {r.get("host", "") for r in sim.requests()}
    assert not any("evil.example.net" in h for h in hosts)


@pytest.mark.design("A-10")
def test_an_app_deleted_mid_sync_is_removed_once(sim, worker, ledger):
    services.run_full_sync(client=worker, trigger="drill")
    before = head()
    victim = next(a for a in reversed(oidc_apps(sim)) if a["grants"])
    # Okta deletes the victim after the listing, while grants are being read.
    sim.fault(
        method="GET", path=r"/grants$", kind="delete_app", app_id=victim["id"], times=1
    )

    run = services.run_full_sync(client=worker, trigger="drill")

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert OktaApp.objects.get(okta_id=victim["id"]).removed_at is not None
    expected = [("app_removed", victim["id"], "")] + [
        ("external_revoke", victim["id"], g["scopeId"]) for g in victim["grants"]
    ]
    assert ledger.audit(expected, change_rows(before)) == (0, 0)
    assert ledger.grants(db_held(), okta_held(sim)) == (0, 0)


# --- interactive grants during Okta faults ---------------------------------------------


@pytest.fixture
def console(sim, worker, settings):
    """The demo org synced, and a Super Admin signed in over the real flow."""
    settings.OKTA_ORG_URL = sim.url
    services.run_full_sync(client=worker, trigger="drill")
    return signed_in(flow.SUPER)


def grant_url(app_id: str) -> str:
    return f"/apps/{app_id}/grants/grant"


def grant_posts(sim, app_id: str) -> list[dict]:
    return [
        r
        for r in sim.requests()
        if r["method"] == "POST" and r["path"] == f"/api/v1/apps/{app_id}/grants"
    ]


@pytest.mark.design("A-24", "A-7")
@pytest.mark.parametrize("kind", ["drop", "status-503"])
def test_okta_outage_during_an_interactive_grant(sim, console, worker, kind):
    app = web_app(sim, without="okta.brands.read")
    fault = (
        {"kind": "status", "status": 503} if kind == "status-503" else {"kind": kind}
    )
    sim.fault(path=rf"/api/v1/apps/{app['id']}/grants", times=-1, **fault)
    before = head()

    response = console.post(
        grant_url(app["id"]), {"only": "okta.brands.read"}, follow=True
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "okta.brands.read" in body
    assert "Granted." not in body
    assert "Not done:" in body
    assert not ScopeGrant.objects.filter(
        app__okta_id=app["id"], scope_id="okta.brands.read", revoked_at=None
    ).exists()
    rows = list(
        AuditEvent.objects.filter(seq__gt=before)
        .order_by("seq")
        .values_list("action", "outcome")
    )
    assert rows == [("grant_intent", "pending"), ("grant", "failure")]
    assert "okta.brands.read" not in okta_grants(sim, app["id"])
    # The pages still render from the database while Okta stays down, saying
    # since when the data is stale (ASVS 16.5.2), before any sync has noticed.
    sim.clear_faults()
    sim.fault(path=r"^/api/v1/", times=-1, kind="drop")
    page = console.get(f"/apps/{app['id']}/")
    assert page.status_code == 200
    assert "Stale since" in page.content.decode()
    assert "Okta did not answer a grant or revoke" in page.content.decode()
    sim.clear_faults()
    # A sync that succeeds clears the banner; one that fails brings it back.
    services.run_full_sync(client=worker, trigger="drill", sleep=lambda s: None)
    assert "Stale since" not in console.get(f"/apps/{app['id']}/").content.decode()
    sim.fault(method="GET", path=r"^/api/v1/apps$", times=-1, status=403)
    run = services.run_full_sync(client=worker, trigger="drill", sleep=lambda s: None)
    assert run.status == SyncRun.Status.FAILED
    page = console.get(f"/apps/{app['id']}/")
    assert page.status_code == 200
    assert "Stale since" in page.content.decode()
    sim.clear_faults()


@pytest.mark.design("A-3", "A-7")
def test_a_5xx_on_the_grant_post_is_read_back_then_sent_once_more(sim, console):
    app = web_app(sim, without="okta.brands.read")
    sim.fault(
        method="POST",
        path=rf"/api/v1/apps/{app['id']}/grants$",
        kind="status",
        status=500,
        times=1,
    )
    before = head()

    response = console.post(
        grant_url(app["id"]), {"only": "okta.brands.read"}, follow=True
    )

    assert response.status_code == 200
    assert "okta.brands.read" in okta_grants(sim, app["id"])
    assert len(grant_posts(sim, app["id"])) == 2  # the lost one and one more
    calls = [
        (r["method"], r["path"].rsplit("/", 1)[-1])
        for r in sim.requests()
        if app["id"] in r["path"]
    ]
    assert calls[-3:] == [("POST", "grants"), ("GET", "grants"), ("POST", "grants")]
    finals = AuditEvent.objects.filter(seq__gt=before, action="grant")
    assert [(r.outcome, r.scope_id) for r in finals] == [
        ("success", "okta.brands.read")
    ]


@pytest.mark.design("A-3")
def test_a_grant_whose_answer_is_lost_is_not_posted_twice(sim, console, ledger):
    """Okta applied the POST but the answer never arrived (connection cut after
    the write): the read-back finds the grant, so no second POST is sent."""
    app = web_app(sim, without="okta.brands.read")
    sim.fault(
        method="POST",
        path=rf"/api/v1/apps/{app['id']}/grants$",
        kind="truncate",
        times=1,
    )
    before = head()

    response = console.post(
        grant_url(app["id"]), {"only": "okta.brands.read"}, follow=True
    )

    assert response.status_code == 200
    assert len(grant_posts(sim, app["id"])) == 1
    finals = list(
        AuditEvent.objects.filter(seq__gt=before, action__in=("grant",)).values_list(
            "action", "app_okta_id", "scope_id"
        )
    )
    assert ledger.audit([("grant", app["id"], "okta.brands.read")], finals) == (0, 0)
    assert ScopeGrant.objects.filter(
        app__okta_id=app["id"], scope_id="okta.brands.read", revoked_at=None
    ).exists()
