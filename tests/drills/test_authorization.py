"""Authorization drills: every write URL of the console, tried by everyone who
must not succeed, over the real sign-in (Django test client → the simulator's
Org AS → callback). None of the attempts may reach Okta's apps API (asserted
from the simulator's request log), queue a sync, or change the database; the
refusals of signed-in users each leave an ``authz_denied`` audit row.

The write URLs come from ``grantsconsole/console/urls.py`` (every POST-only
view) and ``grantsconsole/accounts/urls.py`` (sign-out is drilled by tests/accounts);
``test_every_post_only_route_is_drilled`` fails when a new one is added
without being drilled here.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from django.db.models import Sum
from django.test import Client
from django.urls import get_resolver

from grantsconsole.accounts import session as sess
from grantsconsole.accounts.models import SecurityEvent
from grantsconsole.governance.models import AlertDestination, GrantRequest
from grantsconsole.grants import tasks
from grantsconsole.grants.models import (
    ApiServiceIntegration,
    AuditEvent,
    AuditVerification,
    OktaApp,
    ScopeGrant,
    SyncRun,
)
from tests.accounts import flow
from tests.conftest import lift_sync_rate_limits
from tests.console.conftest import signed_in, web_app

pytestmark = pytest.mark.django_db

ROLES = {
    "org-admin": ["ORG_ADMIN"],
    "app-admin": ["APP_ADMIN"],
    "read-only-admin": ["READ_ONLY_ADMIN"],  # the token still carries *.manage
    "no-admin-role": [],
}


@pytest.fixture
def org(sim, settings):
    """The demo org synced into the database; an app to aim at; sync queueing
    recorded instead of sent to a broker."""
    from grantsconsole.grants import services
    from grantsconsole.okta_clients import forget_worker_clients, worker_client

    settings.OKTA_ORG_URL = sim.url
    # These drills sign in once per write route, from one address: more sign-in
    # posts a minute than the anonymous limit allows (tested on its own in
    # tests/accounts/test_anonymous_traffic.py).
    settings.ANONYMOUS_REQUESTS_PER_MINUTE = 1_000
    lift_sync_rate_limits(sim)
    forget_worker_clients()
    run = services.run_full_sync(client=worker_client(), trigger="drill")
    assert run.status == "succeeded", run.message
    app = web_app(sim, without="okta.brands.read", holding="okta.apps.read")
    return app


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    calls: list[str] = []
    for task in (
        tasks.start_full_sync,
        tasks.incremental_sync,
        tasks.verify_audit,
        tasks.audit_report,
    ):
        monkeypatch.setattr(
            task, "delay", lambda *a, _n=task.name, **k: calls.append(_n)
        )
    return calls


def writes(app_id: str) -> dict[str, tuple[str, dict]]:
    """Every write URL with a body a Super Admin could legitimately send (the
    integration: the first the sync stored, "none" before any)."""
    integration = ApiServiceIntegration.objects.order_by("pk").first()
    request = GrantRequest.objects.order_by("pk").first()
    destination = (
        AlertDestination.objects.order_by("pk").values_list("pk", flat=True).first()
        or 0
    )
    return {
        "integration-remove": (
            f"/integrations/{integration.okta_id if integration else 'none'}/remove",
            {
                "confirm": "yes",
                "typed": (integration.name or integration.okta_id)
                if integration
                else "",
            },
        ),
        "grant-create": (f"/apps/{app_id}/grants/grant", {"only": "okta.brands.read"}),
        "grant-revoke": (
            f"/apps/{app_id}/grants/revoke",
            {"only": "okta.apps.read", "confirm": "yes"},
        ),
        "grant-undo": (f"/apps/{app_id}/grants/undo", {"revoke": "1"}),
        "tokens-revoke": (
            f"/apps/{app_id}/tokens/revoke",
            {"revoke": "1", "confirm": "yes"},
        ),
        "app-refresh": (f"/apps/{app_id}/refresh", {}),
        "scope-grant-bulk": ("/scopes/okta.brands.read/grant", {"app": [app_id]}),
        "scope-revoke-bulk": (
            "/scopes/okta.apps.read/revoke",
            {"app": [app_id], "confirm": "yes"},
        ),
        "sync-start": ("/sync/start", {"kind": "full"}),
        "audit-verify": ("/audit/verify", {}),
        "report-generate": ("/reports/generate", {}),
        "owner-set": (
            f"/apps/{app_id}/owner/set",
            {"login": "super.admin@example.com"},
        ),
        "attestation-start": ("/attestation/start", {}),
        "attestation-answer": ("/attestation/items/1/answer", {"decision": "confirm"}),
        "request-approve": (f"/requests/{request.pk if request else 1}/approve", {}),
        "request-deny": (f"/requests/{request.pk if request else 1}/deny", {}),
        "grant-end-time": (
            f"/apps/{app_id}/grants/end-time",
            {"scope": "okta.apps.read", "ends_at": "2099-01-01T00:00"},
        ),
        "alert-destination-create": (
            "/alerts/destinations/create",
            {"name": "Pager", "kind": "email", "emails": "pager@example.com"},
        ),
        "alert-destination-update": (
            f"/alerts/destinations/{destination}/edit",
            {"name": "Renamed", "kind": "email", "emails": "x@example.com"},
        ),
        "alert-destination-test": (f"/alerts/destinations/{destination}/test", {}),
        "alert-destination-delete": (f"/alerts/destinations/{destination}/delete", {}),
        "policy-save": ("/policy/edit", {"text": "version: 1\n"}),
        "policy-finding-accept": (
            "/policy/findings/1/accept",
            {"reason": "known", "days": "30"},
        ),
        "policy-apply": ("/policy/apply", {"plan": "x", "confirm": "yes"}),
        "plans-apply": ("/usage/plans/apply", {"app": [app_id], "confirm": "yes"}),
    }


class Watch:
    """What one attempt did: Okta apps-API calls, syncs queued, DB changes."""

    def __init__(self, sim, queued: list[str]) -> None:
        self.sim, self.queued = sim, queued
        self.mark = len(sim.requests())
        self.queued_before = len(queued)
        self.seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)
        self.seq = self.seq.first() or 0
        self.refusals = self.refusals_counted()
        self.grants = set(
            ScopeGrant.objects.filter(revoked_at=None).values_list("app_id", "scope_id")
        )
        self.synced = dict(OktaApp.objects.values_list("okta_id", "last_synced_at"))
        self.verifications = AuditVerification.objects.count()
        self.runs = SyncRun.objects.count()  # "Sync now" records a queued run

    def okta_app_calls(self) -> list[dict]:
        return [
            r
            for r in self.sim.requests()[self.mark :]
            if r["path"].startswith("/api/v1/apps")
        ]

    @staticmethod
    def refusals_counted() -> int:
        """Refusals without a signed-in admin (security events, not chained)."""
        return SecurityEvent.objects.aggregate(n=Sum("count"))["n"] or 0

    def new_refusals(self) -> int:
        return self.refusals_counted() - self.refusals

    def new_audit(self) -> list[tuple[str, str]]:
        return list(
            AuditEvent.objects.filter(seq__gt=self.seq)
            .order_by("seq")
            .values_list("action", "outcome")
        )

    def assert_nothing_happened(self, ledger, what: str) -> None:
        assert self.okta_app_calls() == [], what
        assert len(self.queued) == self.queued_before, what
        now = set(
            ScopeGrant.objects.filter(revoked_at=None).values_list("app_id", "scope_id")
        )
        assert now == self.grants, what
        assert dict(OktaApp.objects.values_list("okta_id", "last_synced_at")) == (
            self.synced
        ), what
        assert AuditVerification.objects.count() == self.verifications, what
        assert SyncRun.objects.count() == self.runs, what
        ledger.refused()


def _routes() -> dict[str, str]:
    """{route name: a URL for it} of every route of the project's own views."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, route)
                continue
            module = getattr(p.callback, "__module__", "")
            if p.name and module.startswith("grantsconsole."):
                url = re.sub(r"<int:\w+>", "1", re.sub(r"<(str:)?\w+>", "x", route))
                found.setdefault(p.name, "/" + url)

    walk(get_resolver().url_patterns, "")
    return found


def test_every_post_only_route_is_drilled(db):
    """Every route that answers GET with 405 (POST-only) is in ``writes()``,
    except the session routes (sign-in button, sign-out) drilled by accounts."""
    anonymous = Client(HTTP_HOST=flow.HOST)
    post_only = {
        name for name, url in _routes().items() if anonymous.get(url).status_code == 405
    }
    assert post_only - {"login", "logout", "okta_login"} == set(writes("x")), post_only


@pytest.mark.design("A-16")
def test_anonymous_write_attempts_reach_nothing(sim, org, queued, ledger):
    for name, (url, body) in writes(org["id"]).items():
        watch = Watch(sim, queued)
        response = Client(HTTP_HOST=flow.HOST).post(url, body)
        assert response.status_code in (302, 401, 403), name
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/"), name
        watch.assert_nothing_happened(ledger, name)
        # counted as a security event; the audit chain is for signed-in admins
        assert watch.new_audit() == [], name
        assert watch.new_refusals() == 1, name


@pytest.mark.design("A-16", "A-9")
@pytest.mark.parametrize("role", list(ROLES))
def test_each_non_super_admin_role_is_refused_on_every_write(
    sim, org, queued, ledger, settings, role
):
    """A Super Admin session whose Okta role is now ``role`` (ASVS 8.3.2: the
    change applies at once); every request re-checks the role."""
    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 0
    for name, (url, body) in writes(org["id"]).items():
        sim.set_roles(flow.SUPER, ["SUPER_ADMIN"])
        client = signed_in(flow.SUPER)
        sim.set_roles(flow.SUPER, ROLES[role])
        watch = Watch(sim, queued)
        response = client.post(url, body)
        assert response.status_code == 403, (name, response.status_code)
        assert b"Super Admin" in response.content, name
        watch.assert_nothing_happened(ledger, name)
        assert ("authz_denied", "denied") in watch.new_audit(), name
        if role == "read-only-admin":
            # An auditor (ACCOUNTS_AUDITOR_ROLES): still signed in, for reading.
            assert client.get("/apps/").status_code == 403, name
            assert client.get("/audit/").status_code == 200, name
        else:
            # The session is over: the next request is anonymous.
            assert client.get("/apps/").status_code == 302, name


@pytest.mark.design("A-16", "A-6")
def test_super_admin_demoted_between_page_load_and_submit(sim, org, queued, ledger):
    """Default re-check interval (5 minutes): the page loads as a Super Admin,
    Okta demotes them, the submit that follows must still be refused for every
    write URL, queueing a sync included (fresh role check before writes)."""
    for name, (url, body) in writes(org["id"]).items():
        sim.set_roles(flow.SUPER, ["SUPER_ADMIN"])
        client = signed_in(flow.SUPER)
        assert client.get(f"/apps/{org['id']}/").status_code == 200
        sim.set_roles(flow.SUPER, ["READ_ONLY_ADMIN"])
        watch = Watch(sim, queued)
        response = client.post(url, body)
        assert response.status_code == 403, (name, response.status_code)
        watch.assert_nothing_happened(ledger, name)
        assert ("authz_denied", "denied") in watch.new_audit(), name


@pytest.mark.design("A-15")
def test_csrf_missing_foreign_token_and_bad_origin(sim, org, queued, ledger):
    client = signed_in(flow.SUPER, enforce_csrf=True)
    other = signed_in(flow.SUPER, enforce_csrf=True)
    own = client.get("/apps/").cookies.get("csrftoken") or client.cookies["csrftoken"]
    foreign = other.cookies["csrftoken"].value
    assert foreign != own.value
    for name, (url, body) in writes(org["id"]).items():
        for case, extra, headers in (
            ("missing", {}, {}),
            ("foreign", {"csrfmiddlewaretoken": foreign}, {}),
            (
                "bad-origin",
                {"csrfmiddlewaretoken": own.value},
                {"HTTP_ORIGIN": "https://evil.example.net"},
            ),
        ):
            watch = Watch(sim, queued)
            response = client.post(url, {**body, **extra}, **headers)
            assert response.status_code == 403, (name, case, response.status_code)
            watch.assert_nothing_happened(ledger, f"{name} {case}")
            assert [a for a, _ in watch.new_audit()] == ["authz_denied"], (name, case)
        # A GET never performs a write.
        watch = Watch(sim, queued)
        assert client.get(url).status_code == 405, name
        watch.assert_nothing_happened(ledger, f"{name} GET")
    # The session survived the forgeries: a real submit still works.
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/apps/{org['id']}/grants/grant",
        {"only": "okta.brands.read", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert ScopeGrant.objects.filter(
        app__okta_id=org["id"], scope_id="okta.brands.read", revoked_at=None
    ).exists()


@pytest.mark.design("A-18")
@pytest.mark.parametrize(
    ("key", "age", "reason"),
    [
        (sess.LAST_SEEN, 30 * 60 + 5, "idle_timeout"),
        (sess.LOGIN_AT, 12 * 3600 + 60, "absolute_timeout"),
    ],
    ids=["idle-31-min", "absolute-12h"],
)
def test_a_stale_session_cannot_write(
    sim, org, queued, ledger, key, age, reason, settings
):
    # Each write here is a signed-out post plus a new sign-in: more in a minute
    # than the anonymous rate limit lets one address send.
    settings.ANONYMOUS_REQUESTS_PER_MINUTE = 1000
    client = signed_in(flow.SUPER)
    for name, (url, body) in writes(org["id"]).items():
        session = client.session
        session[key] = time.time() - age
        session.save()
        watch = Watch(sim, queued)
        response = client.post(url, body)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
        watch.assert_nothing_happened(ledger, name)
        events = AuditEvent.objects.filter(seq__gt=watch.seq, action="sign_out")
        assert [e.detail.get("reason") for e in events] == [reason], name
        client = signed_in(flow.SUPER)


@pytest.mark.design("A-19")
def test_forged_oidc_callbacks_sign_nobody_in(sim, org, queued, ledger):
    """Callbacks no browser started: made-up code/state, a real code with a
    forged state, a replayed callback. Each is refused and recorded: an audit
    row in the signed-in session (replayed), a security event elsewhere."""
    victim = flow.console_client()
    attacker = flow.console_client()
    real = flow.okta_login(flow.start(attacker), flow.SUPER, browser=requests.Session())
    code = flow.query(real)["code"]
    used = flow.console_client()
    good = flow.okta_login(flow.start(used), flow.SUPER, browser=requests.Session())
    assert flow.finish(used, good).status_code == 302
    cases = {
        "made-up": {"code": "forged-code", "state": "forged-state"},
        "real-code-forged-state": {"code": code, "state": "forged-state"},
        "attackers-callback-in-victims-browser": flow.query(real),
        "replayed": flow.query(good),
    }
    for name, params in cases.items():
        client = used if name == "replayed" else victim
        watch = Watch(sim, queued)
        response = client.get(flow.CALLBACK_PATH, params)
        assert response.status_code != 302 or not response["Location"].startswith(
            "/apps"
        ), name
        assert "_auth_user_id" not in victim.session, name
        watch.assert_nothing_happened(ledger, name)
        assert watch.new_refusals() == 1 or any(
            action in ("sign_in", "authz_denied") and outcome != "success"
            for action, outcome in watch.new_audit()
        ), (name, watch.new_audit())
