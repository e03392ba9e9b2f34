"""Full sync against the simulator over HTTP."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grantsconsole.grants import audit, locks, services
from grantsconsole.grants.models import (
    ApiServiceIntegration,
    AuditEvent,
    ClientPrivilege,
    LogCursor,
    OktaApp,
    ScopeCount,
    ScopeGrant,
    SyncRun,
)
from grantsconsole.grants.services import full_sync
from grantsconsole.okta import OktaClient
from tests.conftest import lift_sync_rate_limits
from tests.factories import ORG_ADMIN, SUPER
from tests.grants.helpers import (
    app_with_grants,
    app_without,
    db_state,
    okta_state,
    sim_post,
)

pytestmark = pytest.mark.django_db

SSWS = "00demoSuperAdminSSWStoken0000000000000000"


SERVICES = "/integrations/api/v1/api-services"


def _api_requests(sim) -> list[dict]:
    return [r for r in sim.requests() if r["path"].startswith("/api/v1/")]


def test_full_sync_reproduces_the_simulator_state(sim, worker_client):
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    expected = okta_state(sim)
    assert db_state() == expected
    assert run.apps_total == run.apps_done == len(expected)
    assert OktaApp.objects.filter(grants_state="ok").count() == len(expected)
    # New apps are recorded once each, with the scopes they hold.
    discovered = AuditEvent.objects.filter(action="app_discovered")
    assert discovered.count() == len(expected)
    some = discovered.get(app_okta_id=app_with_grants(sim)["id"])
    assert some.detail["scopes"] == sorted(expected[some.app_okta_id]["grants"])
    assert audit.verify().ok
    # The System Log cursor is seeded for the incremental sync.
    assert LogCursor.objects.get().since == run.started_at


def test_full_sync_request_count_is_the_stated_minimum(sim, worker_client):
    """The minimum: ceil(all apps / 200) listing pages (Okta cannot filter by
    signOnMode), one grants read per OIDC app, one roles read per OIDC service
    app, and one targets (or resource set) read per group- or app-targeted or
    custom role of those; one credentials read per app where they matter
    (services.controls.credentials_to_read: a service app holding a grant
    reads its keys, a web app holding a manage scope its secrets; public
    clients none) and the org setting once; plus ceil(I / 20) API service
    integration pages and one secrets read per integration; nothing else."""
    sim.reset(apps=260)
    lift_sync_rate_limits(sim)  # the reset restored Okta's limits
    sim.set_client_roles(
        next(a for a in sim.state()["apps"] if a["kind"] == "service")["client_id"],
        ["APP_ADMIN", "READ_ONLY_ADMIN"],
    )
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    n = len(okta_state(sim))
    apps = sim.state()["apps"]
    every = len(apps)
    services_ = [a for a in apps if a["kind"] == "service" and a["client_id"]]
    targeted = sum(
        t in ("USER_ADMIN", "HELP_DESK_ADMIN", "GROUP_MEMBERSHIP_ADMIN")
        or t in ("APP_ADMIN", "CUSTOM")
        for a in services_
        for t in a["roles"]
    )
    assert targeted == 1
    calls = [
        r
        for r in sim.requests()
        if r["path"].startswith(("/api/v1/", "/oauth2/v1/clients/"))
    ]
    listing = [r for r in calls if r["path"] == "/api/v1/apps"]
    grants = [r for r in calls if r["path"].endswith("/grants")]
    roles = [r for r in calls if r["path"].endswith("/roles")]
    targets = [r for r in calls if "/targets/" in r["path"]]
    credentials = [r for r in calls if "/credentials/" in r["path"]]
    setting = [r for r in calls if r["path"].endswith("/clientPrivilegesSetting")]
    assert len(grants) == n
    assert every > n > 200  # non-OIDC apps too, at least two pages
    assert len(listing) == -(-every // 200)  # ceil(every / 200): pages of 200
    assert len(roles) == len(services_) > 0
    assert len(targets) == targeted
    # Counted from Okta's side: generated service apps use private_key_jwt,
    # web apps client_secret_basic, browser and native apps none.
    matter = {
        a["id"]: "jwks" if a["kind"] == "service" else "secrets"
        for a in sim.state()["apps"]
        if a["grants"]
        and (
            a["kind"] == "service"
            or (
                a["kind"] == "web"
                and any(g["scopeId"].endswith(".manage") for g in a["grants"])
            )
        )
    }
    assert 0 < len(matter) < n
    assert sorted(r["path"] for r in credentials) == sorted(
        f"/api/v1/apps/{i}/credentials/{kind}" for i, kind in matter.items()
    )
    assert len(setting) == 1
    assert len(calls) == (
        len(listing) + n + len(services_) + targeted + len(matter) + len(setting)
    )
    holders = [r for r in sim.requests() if r["path"].startswith(SERVICES)]
    pages = [r for r in holders if r["path"] == SERVICES]
    secrets = [r for r in holders if r["path"].endswith("/credentials/secrets")]
    assert (len(pages), len(secrets)) == (1, 2)  # the demo org's two, one page
    assert len(holders) == len(pages) + len(secrets)
    assert run.okta_requests == len(calls) + len(holders)
    assert db_state() == okta_state(sim)


def test_oidc_apps_of_every_name_are_synced_and_other_apps_are_no_failure(
    sim, worker_client
):
    """OIN integrations, Okta's own OAuth apps and an OIDC app without OAuth
    client settings are synced like custom ones; SAML and bookmark apps in
    the listing are skipped without making the run partial."""
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert run.apps_failed == 0
    assert run.errors == {}
    apps = {a["label"]: a for a in sim.state()["apps"]}
    for label in ("Zscaler Internet Access", "Okta Workflows OAuth"):
        row = OktaApp.objects.get(okta_id=apps[label]["id"])
        assert row.name == apps[label]["name"] != "oidc_client"
        assert row.client_id == row.okta_id
        assert row.grants.filter(revoked_at=None).count() == len(apps[label]["grants"])
    bare = OktaApp.objects.get(okta_id=apps["Okta Access Requests"]["id"])
    assert (bare.client_id, bare.application_type) == ("", "")
    assert bare.grants_state == OktaApp.GrantsState.OK
    assert list(bare.grants.values_list("scope_id", flat=True)) == ["okta.users.read"]
    assert not OktaApp.objects.filter(okta_id=apps["Workday (SAML)"]["id"]).exists()


def test_a_second_sync_changes_nothing_and_writes_no_audit_rows(sim, worker_client):
    services.run_full_sync(client=worker_client)
    rows = AuditEvent.objects.count()
    grants = list(ScopeGrant.objects.values_list("pk", "revoked_at").order_by("pk"))
    run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert AuditEvent.objects.count() == rows
    assert (
        list(ScopeGrant.objects.values_list("pk", "revoked_at").order_by("pk"))
        == grants
    )
    assert (run.grants_added, run.grants_revoked, run.apps_added, run.apps_removed) == (
        0,
        0,
        0,
        0,
    )


def test_changes_made_in_okta_become_external_change_rows(sim, worker_client):
    services.run_full_sync(client=worker_client)
    holder = app_with_grants(sim)
    revoked_scope = holder["grants"][0]["scopeId"]
    target = app_without(sim, "okta.groups.read")
    sim.oob_revoke(
        app_id=holder["id"], scope_id=revoked_scope, actor_login=ORG_ADMIN.login
    )
    sim.oob_grant(
        app_id=target["id"],
        scope_id="okta.groups.read",
        actor_login=SUPER.login,
    )
    before = AuditEvent.objects.count()

    run = services.run_full_sync(client=worker_client)

    assert db_state() == okta_state(sim)
    assert (run.grants_added, run.grants_revoked) == (1, 1)
    new = AuditEvent.objects.filter(seq__gt=before)
    assert sorted(new.values_list("action", "app_okta_id", "scope_id")) == sorted(
        [
            ("external_grant", target["id"], "okta.groups.read"),
            ("external_revoke", holder["id"], revoked_scope),
        ]
    )
    closed = ScopeGrant.objects.get(app__okta_id=holder["id"], scope_id=revoked_scope)
    assert closed.revoked_at is not None  # history kept
    assert audit.verify().ok


def test_an_app_deleted_in_okta_is_marked_removed_with_its_grants_closed(
    sim, worker_client
):
    services.run_full_sync(client=worker_client)
    victim = app_with_grants(sim)
    sim_post(sim, "/__sim__/oob/app", action="delete", app_id=victim["id"])

    run = services.run_full_sync(client=worker_client)

    row = OktaApp.objects.get(okta_id=victim["id"])
    assert row.removed_at is not None
    assert not row.grants.filter(revoked_at__isnull=True).exists()
    assert run.apps_removed == 1
    assert (
        AuditEvent.objects.filter(
            action="app_removed", app_okta_id=victim["id"]
        ).count()
        == 1
    )
    assert AuditEvent.objects.filter(
        action="external_revoke", app_okta_id=victim["id"]
    ).count() == len(victim["grants"])
    assert db_state() == okta_state(sim)


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500, "error_code": "E0000009"},
        {"kind": "malformed"},
        {"status": 403, "error_code": "E0000006"},
    ],
    ids=["server-error", "malformed-body", "forbidden"],
)
def test_a_fault_on_one_app_leaves_its_local_grants_untouched(
    sim, worker_client, fault
):
    services.run_full_sync(client=worker_client)
    victim = app_with_grants(sim)
    other = app_without(sim, "okta.groups.read")
    before = {
        g.scope_id: g.okta_grant_id
        for g in ScopeGrant.objects.filter(
            app__okta_id=victim["id"], revoked_at__isnull=True
        )
    }
    # Okta changes for both apps, but the victim's grants cannot be read.
    sim.oob_revoke(
        app_id=victim["id"],
        scope_id=victim["grants"][0]["scopeId"],
        actor_login=SUPER.login,
    )
    sim.oob_grant(
        app_id=other["id"],
        scope_id="okta.groups.read",
        actor_login=SUPER.login,
    )
    sim.fault(
        method="GET", path=f"/api/v1/apps/{victim['id']}/grants$", times=100, **fault
    )

    run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.PARTIAL
    assert list(run.errors) == [victim["id"]]
    row = OktaApp.objects.get(okta_id=victim["id"])
    assert row.grants_state == OktaApp.GrantsState.UNKNOWN
    assert row.grants_error
    assert row.removed_at is None
    after = {
        g.scope_id: g.okta_grant_id for g in row.grants.filter(revoked_at__isnull=True)
    }
    assert after == before
    assert not AuditEvent.objects.filter(
        app_okta_id=victim["id"], action="external_revoke"
    ).exists()
    # The other app was synced.
    assert "okta.groups.read" in db_state()[other["id"]]["grants"]
    # The unreadable app is named in a sync audit row.
    sync_row = AuditEvent.objects.get(action="sync")
    assert victim["id"] in sync_row.detail["errors"]


@pytest.mark.parametrize("status", [401, 403])
def test_an_auth_failure_on_the_listing_fails_the_sync_and_removes_nothing(
    sim, worker_client, status
):
    services.run_full_sync(client=worker_client)
    before = db_state()
    sim.fault(
        method="GET",
        path="/api/v1/apps$",
        times=100,
        status=status,
        error_code="E0000006" if status == 403 else "E0000011",
    )

    run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.FAILED
    assert db_state() == before
    assert not OktaApp.objects.filter(removed_at__isnull=False).exists()
    assert AuditEvent.objects.filter(action="sync", outcome="failure").count() == 1
    assert locks.holder(full_sync.LOCK_NAME) == ""


def test_a_second_sync_while_one_runs_is_skipped_without_okta_calls(sim, worker_client):
    first = services.start_full_sync(trigger="test")
    assert first.status == SyncRun.Status.RUNNING
    calls = len(_api_requests(sim))

    second = services.run_full_sync(client=worker_client)

    assert second.status == SyncRun.Status.SKIPPED
    assert f"run #{first.pk}" in second.message
    assert len(_api_requests(sim)) == calls
    # The first run proceeds step by step and finishes.
    step = 0
    while step is not None:
        step = services.full_sync_step(first.pk, step, client=worker_client)
    first.refresh_from_db()
    assert first.status == SyncRun.Status.SUCCEEDED
    assert db_state() == okta_state(sim)


def test_a_stale_or_duplicate_step_does_nothing(sim, worker_client):
    run = services.start_full_sync(trigger="test")
    assert services.full_sync_step(run.pk, 0, client=worker_client) == 1
    calls = len(_api_requests(sim))
    assert (
        services.full_sync_step(run.pk, 0, client=worker_client) is None
    )  # redelivered step 0
    assert len(_api_requests(sim)) == calls


def test_sync_grants_command_runs_a_full_sync(sim, worker_client, capsys):
    call_command("sync_grants", "--full")
    out = capsys.readouterr().out
    assert "full sync" in out
    assert "succeeded" in out
    assert db_state() == okta_state(sim)


def test_a_snapshot_read_before_a_console_change_is_not_applied(sim, worker_client):
    """A slow reader never overwrites a newer local change (version check)."""
    from grantsconsole.grants.services.snapshots import apply_snapshot, local_version

    services.run_full_sync(client=worker_client)
    holder = app_with_grants(sim)
    version = local_version(holder["id"])
    app = worker_client.get_app(holder["id"])
    stale = worker_client.list_grants(holder["id"])
    # Meanwhile the console revokes a scope (Okta and the DB change together).
    scope = holder["grants"][0]["scopeId"]
    sim.oob_revoke(app_id=holder["id"], scope_id=scope)
    OktaApp.objects.filter(okta_id=holder["id"]).update(version=version + 1)
    ScopeGrant.objects.filter(app__okta_id=holder["id"], scope_id=scope).update(
        revoked_at=OktaApp.objects.get(okta_id=holder["id"]).first_seen_at
    )
    rows = AuditEvent.objects.count()

    change = apply_snapshot(app, stale, expected_version=version, source="full_sync")

    assert not change.applied
    assert AuditEvent.objects.count() == rows
    assert scope not in db_state()[holder["id"]]["grants"]


def test_a_worker_without_an_admin_role_fails_the_sync(sim, worker_client):
    services.run_full_sync(client=worker_client)
    before = db_state()
    sim.set_client_roles("0oa1workerDEMO0000x7", [])

    run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.FAILED
    assert "refused" in run.message
    assert db_state() == before  # nothing revoked or removed
    assert not AuditEvent.objects.filter(action="external_revoke").exists()


def test_grants_refused_for_every_app_fail_the_sync_early(sim, worker_client):
    services.run_full_sync(client=worker_client)
    before = db_state()
    sim.fault(path="/api/v1/apps/[^/]+/grants$", method="GET", times=-1, status=403)

    run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.FAILED
    assert run.apps_failed == full_sync.DENIED_STREAK  # stopped early
    assert db_state() == before


def test_an_app_deleted_between_listing_and_grants_is_removed_once(sim, worker_client):
    """A-10: Okta deletes an app after the listing, before its grants are read."""
    services.run_full_sync(client=worker_client)
    victim = next(
        a
        for a in reversed(sim.state()["apps"])
        if a["sign_on_mode"] == "OPENID_CONNECT"
        and a["grants"]
        and a["id"] not in ("0oa1workerDEMO0000x7", "0oa1consoleDEMO000x7")
    )
    sim.fault(method="GET", path=r"/grants$", kind="delete_app", app_id=victim["id"])
    before = AuditEvent.objects.count()

    run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert OktaApp.objects.get(okta_id=victim["id"]).removed_at is not None
    rows = AuditEvent.objects.filter(seq__gt=before)
    assert sorted(rows.values_list("action", "scope_id")) == sorted(
        [("app_removed", "")]
        + [("external_revoke", g["scopeId"]) for g in victim["grants"]]
    )
    assert db_state() == okta_state(sim)


def test_a_full_sync_that_finds_nothing_changed_writes_no_app_row(sim, worker_client):
    """Nothing changed in Okta: no app, grant or audit row is written (only the
    run's own bookkeeping and its audit checkpoint), and every app's "Last
    synced" is the new run's start, a run-level time."""
    services.run_full_sync(client=worker_client)
    with CaptureQueriesContext(connection) as queries:
        run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.complete
    per_app = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
        and not q["sql"].startswith(
            ('UPDATE "grants_syncrun"', 'INSERT INTO "grants_syncrun"')
        )
        and "grants_synclock" not in q["sql"]
        and "grants_logcursor" not in q["sql"]
        and "grants_auditcheckpoint" not in q["sql"]
    ]
    assert per_app == []
    synced = set(
        OktaApp.objects.with_synced_at()
        .filter(removed_at__isnull=True)
        .values_list("synced_at", flat=True)
    )
    assert synced == {run.started_at}


def test_a_redelivered_grants_step_resumes_at_the_run_cursor(sim, worker_client):
    """A grants step that already ran (its message delivered again after the
    worker died before moving the step on) reads only the apps after the
    run's cursor."""
    services.run_full_sync(client=worker_client)
    run = services.start_full_sync(trigger="test")
    step = 0
    while not SyncRun.objects.get(pk=run.pk).list_done:
        step = services.full_sync_step(run.pk, step, client=worker_client)
    assert services.full_sync_step(run.pk, step, client=worker_client) == step + 1
    run.refresh_from_db()
    assert run.grants_cursor == full_sync.STEP_MAX_APPS
    SyncRun.objects.filter(pk=run.pk).update(step=step)  # the move was lost
    before = len(_api_requests(sim))
    services.full_sync_step(run.pk, step, client=worker_client)
    # Grants reads only (apps that matter also get a credentials read).
    read = [
        r["path"] for r in _api_requests(sim)[before:] if r["path"].endswith("/grants")
    ]
    first_again = OktaApp.objects.get(pk=run.listed_app_ids[0]).okta_id
    assert f"/api/v1/apps/{first_again}/grants" not in read
    assert len(read) == min(
        full_sync.STEP_MAX_APPS, len(run.listed_app_ids) - run.grants_cursor
    )
    assert SyncRun.objects.get(pk=run.pk).grants_cursor == min(
        2 * full_sync.STEP_MAX_APPS, len(run.listed_app_ids)
    )


def test_the_full_sync_keeps_app_details_current(sim, worker_client):
    services.run_full_sync(client=worker_client)
    app = app_with_grants(sim)
    sim.oob_app("deactivate", app_id=app["id"])
    services.run_full_sync(client=worker_client)  # no incremental sync in between
    assert OktaApp.objects.get(okta_id=app["id"]).status == "INACTIVE"
    assert db_state() == okta_state(sim)


def test_an_unreadable_app_object_is_logged_and_skipped_not_a_failure(
    sim, worker_client, caplog
):
    """An app object Okta sends that cannot be read is skipped with a log line
    naming its id and why (never the object); the run is not partial, and an
    app we hold keeps its grants as last known."""
    services.run_full_sync(client=worker_client)
    holder = app_with_grants(sim)
    held = db_state()[holder["id"]]["grants"]
    page = requests.get(
        f"{sim.url}/api/v1/apps",
        params={"limit": 200},
        headers={"Authorization": f"SSWS {SSWS}"},
        timeout=10,
    ).json()
    broken = [
        {**a, "label": 7, "settings": {"secret": "do-not-log"}}
        if a["id"] == holder["id"]
        else a
        for a in page
    ]
    broken.append({"id": "0oa1broken00000000x7", "signOnMode": 5})
    broken.append("not an object")
    sim.fault("/api/v1/apps$", method="GET", status=200, body=broken)

    with caplog.at_level("DEBUG", logger="grantsconsole.okta"):
        run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.apps_failed, run.errors, run.apps_removed) == (0, {}, 0)
    row = OktaApp.objects.get(okta_id=holder["id"])
    assert row.removed_at is None
    assert row.grants_state == OktaApp.GrantsState.UNKNOWN
    assert "'label' is not a string" in row.grants_error
    assert db_state()[holder["id"]]["grants"] == held
    logged = caplog.text
    assert holder["id"] in logged
    assert "0oa1broken00000000x7" in logged
    assert "do-not-log" not in logged
    saml = next(a for a in page if a["signOnMode"] == "SAML_2_0")
    assert f"app {saml['id']} skipped: signOnMode is 'SAML_2_0'" in logged


def test_grants_answering_404_for_an_app_that_exists_keep_the_app_and_its_grants(
    sim, worker_client
):
    """A 404 on the grants read, while Okta still has the app: shown as
    "grants not readable (404)", never as a missing app; nothing is removed
    or revoked locally, by the full sync or by "refresh this app"."""
    services.run_full_sync(client=worker_client)
    victim = app_with_grants(sim)
    held = db_state()[victim["id"]]["grants"]
    sim.fault(
        f"/api/v1/apps/{victim['id']}/grants$", method="GET", times=-1, status=404
    )

    run = services.run_full_sync(client=worker_client)

    assert run.status == SyncRun.Status.PARTIAL
    assert run.apps_removed == 0
    assert run.errors[victim["id"]].startswith("Grants not readable (404)")
    row = OktaApp.objects.get(okta_id=victim["id"])
    assert row.removed_at is None
    assert row.grants_error.startswith("Grants not readable (404)")
    assert "does not exist" not in row.grants_error
    assert db_state()[victim["id"]]["grants"] == held
    assert not AuditEvent.objects.filter(
        app_okta_id=victim["id"], action__in=("app_removed", "external_revoke")
    ).exists()

    result = services.refresh_app(client=worker_client, app=row)

    assert result.error.startswith("Grants not readable (404)")
    assert not result.change.removed
    assert OktaApp.objects.get(okta_id=victim["id"]).removed_at is None
    assert db_state()[victim["id"]]["grants"] == held


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "error_code": "E0000009"},
        {"status": 429, "error_code": "E0000047", "rate_limit_headers": False},
    ],
    ids=["outage", "429s"],
)
def test_okta_failing_for_long_ends_partial_with_the_apps_not_read(
    sim, worker_client, fault
):
    """A long outage or run of 429s mid-sync: the run ends "partial", keeps
    every app it read, lists every app it did not read, removes nothing."""
    services.run_full_sync(client=worker_client)
    before = db_state()
    apps = sorted(before)  # the order the grants are read in: the listing's
    read_first, rest = apps[:10], apps[10:]
    sim.oob_grant(
        app_id=read_first[0],
        scope_id="okta.devices.read",
        actor_login=ORG_ADMIN.login,
    )
    sim.fault(
        f"/api/v1/apps/({'|'.join(rest)})/grants$", method="GET", times=-1, **fault
    )
    # No repeats inside the client: each failing read is one request.
    impatient = OktaClient(sim.url, worker_client.token_source, max_retries=0)

    run = services.run_full_sync(client=impatient, sleep=lambda s: None)

    assert run.status == SyncRun.Status.PARTIAL, run.message
    assert sorted(run.errors) == rest
    assert run.apps_failed == len(rest)  # each app once, however many retries
    assert run.apps_done == len(read_first)
    assert all(
        m.startswith("Not read: the sync stopped early") for m in run.errors.values()
    )
    assert run.message.startswith(f"Stopped early: 10 apps read, {len(rest)} not read")
    assert "Okta kept failing" in run.message
    assert run.apps_removed == 0
    assert not OktaApp.objects.filter(removed_at__isnull=False).exists()
    assert "okta.devices.read" in db_state()[read_first[0]]["grants"]  # kept
    assert {k: v for k, v in db_state().items() if k in rest} == {
        k: before[k] for k in rest
    }
    assert AuditEvent.objects.get(action="sync").detail["not_read"] == len(rest)
    assert locks.holder(full_sync.LOCK_NAME) == ""


def test_an_outage_from_the_start_fails_the_run_and_changes_nothing(sim, worker_client):
    services.run_full_sync(client=worker_client)
    before = db_state()
    sim.fault("/api/v1/apps", method="GET", times=-1, status=503)
    impatient = OktaClient(sim.url, worker_client.token_source, max_retries=0)

    run = services.run_full_sync(client=impatient, sleep=lambda s: None)

    assert run.status == SyncRun.Status.FAILED, run.message
    assert "Okta kept failing" in run.message
    assert db_state() == before
    assert locks.holder(full_sync.LOCK_NAME) == ""


def test_a_short_outage_is_ridden_out_and_leaves_no_failure(sim, worker_client):
    """Three apps in a row fail (an outage), the step is retried and reads
    them: the run succeeds, with no failure counted for them."""
    services.run_full_sync(client=worker_client)
    three = sorted(db_state())[5:8]
    sim.fault(
        f"/api/v1/apps/({'|'.join(three)})/grants$", method="GET", times=3, status=503
    )
    impatient = OktaClient(sim.url, worker_client.token_source, max_retries=0)

    run = services.run_full_sync(client=impatient, sleep=lambda s: None)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert (run.apps_failed, run.errors) == (0, {})
    assert run.apps_done == len(db_state())
    assert db_state() == okta_state(sim)


def test_text_no_database_can_store_is_stored_escaped_and_never_stops_a_sync(
    sim, worker_client
):
    """A lone surrogate (not Unicode: UTF-8 cannot encode it) and NUL
    (PostgreSQL refuses it in text and jsonb) in Okta's data: stored with the
    raw character escaped as ``\\uXXXX``, shown literally; the sync goes on."""
    services.run_full_sync(client=worker_client)
    odd = sim_post(
        sim,
        "/__sim__/oob/app",
        action="create",
        label="Odd \ud800 label\x00 end",
        grants=["okta.users.read"],
    )

    run = services.run_full_sync(client=worker_client)
    incremental = services.run_incremental_sync(client=worker_client)

    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    assert incremental.status == SyncRun.Status.SUCCEEDED, incremental.message
    row = OktaApp.objects.get(okta_id=odd["id"])
    assert row.label == "Odd \\ud800 label\\u0000 end"
    assert list(row.grants.values_list("scope_id", flat=True)) == ["okta.users.read"]
    discovered = AuditEvent.objects.get(action="app_discovered", app=row)
    assert discovered.app_label == row.label
    assert audit.verify().ok
    assert db_state().keys() == okta_state(sim).keys()


def _app_writes(queries: CaptureQueriesContext) -> Counter:
    """INSERT and UPDATE statements on the apps table among ``queries``."""
    return Counter(
        q["sql"].split()[0]
        for q in queries.captured_queries
        if q["sql"].startswith(
            ('INSERT INTO "grants_oktaapp"', 'UPDATE "grants_oktaapp"')
        )
    )


def test_the_first_full_sync_writes_each_app_without_needless_statements(
    sim, worker_client
):
    """Into an empty database: the listing inserts a page's new apps in one
    statement, and applying an app's grants writes its row once, plus once
    more for its counts when it has grants (not a row per grant, and no
    separate write of its version), with no savepoint for the grant rows."""
    with CaptureQueriesContext(connection) as queries:
        run = services.run_full_sync(client=worker_client)
    assert run.status == SyncRun.Status.SUCCEEDED, run.message
    apps = OktaApp.objects.count()
    with_grants = OktaApp.objects.filter(grant_count__gt=0).count()
    assert 0 < with_grants < apps
    app_writes = _app_writes(queries)
    assert app_writes["INSERT"] == 1  # one listing page
    assert app_writes["UPDATE"] == apps + with_grants
    assert not OktaApp.objects.miscounted().exists()
    # Per app, the savepoints of its transaction (nested here in the test's)
    # and of its audit row; its grant rows and counts need none of their own.
    # Per scope, one when its ScopeCount row is first made (get_or_create
    # guards against a concurrent writer making it too).
    savepoints = [
        q for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")
    ]
    scopes = ScopeCount.objects.count()
    # Per service app's roles and per API service integration, at most two
    # (its row, its audit row).
    others = ClientPrivilege.objects.count() + ApiServiceIntegration.objects.count()
    # + the run's own: listing, lock, end
    assert len(savepoints) <= 2 * apps + scopes + 2 * others + 10
