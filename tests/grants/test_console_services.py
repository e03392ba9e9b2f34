"""write_scopes (grant and revoke) and refresh_app against the simulator."""

from __future__ import annotations

import pytest

from grantsconsole.grants import audit, services
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import AuditEvent, OktaApp, ScopeGrant
from grantsconsole.okta import OktaClient, SswsTokenSource, TokenSource
from tests.factories import ORG_ADMIN, READ_ONLY, SUPER, record_action
from tests.grants.helpers import app_with_grants, app_without, db_state, okta_state

pytestmark = pytest.mark.django_db

ADMIN = SUPER.actor


class _Bearer(TokenSource):
    """A fixed access token (minted by the simulator for a given user)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def authorization(self) -> str:
        return f"Bearer {self.token}"

    def refresh_after_unauthorized(self, rejected: str) -> bool:
        return False

    def granted_scopes(self) -> frozenset[str]:
        return frozenset()

    def __repr__(self) -> str:
        return "_Bearer(***)"


@pytest.fixture
def admin_okta(sim) -> OktaClient:
    """The Super Admin acting through the console (SSWS token of the demo org)."""
    return OktaClient(
        sim.url, SswsTokenSource("00demoSuperAdminSSWStoken0000000000000000")
    )


@pytest.fixture
def readonly_client(sim) -> OktaClient:
    """A Read-Only Admin whose console token carries okta.appGrants.manage."""
    body = sim.token(
        login=READ_ONLY.login,
        scopes="openid okta.appGrants.read okta.appGrants.manage",
    )
    return OktaClient(sim.url, _Bearer(body["access_token"]))


def _actions(after: int) -> list[tuple[str, str, str]]:
    return list(
        AuditEvent.objects.filter(seq__gt=after)
        .order_by("seq")
        .values_list("action", "scope_id", "outcome")
    )


def test_grant_records_intent_then_outcome_and_the_local_row(
    sim, admin_okta, full_synced
):
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    head = AuditEvent.objects.count()

    [result] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.groups.read"],
        actor=ADMIN,
    )

    assert result.ok
    assert result.changed
    assert result.okta_request_id
    assert _actions(head) == [
        ("grant_intent", "okta.groups.read", "pending"),
        ("grant", "okta.groups.read", "success"),
    ]
    final = AuditEvent.objects.get(seq=result.audit_seq)
    assert final.okta_request_id == result.okta_request_id
    assert final.actor_login == SUPER.login
    grant = ScopeGrant.objects.get(
        app=app, scope_id="okta.groups.read", revoked_at__isnull=True
    )
    assert grant.granted_by == SUPER.login
    assert db_state() == okta_state(sim)


def test_granting_a_scope_already_held_is_success_without_change(
    sim, admin_okta, full_synced
):
    holder = app_with_grants(sim)
    app = OktaApp.objects.get(okta_id=holder["id"])
    scope = holder["grants"][0]["scopeId"]
    [result] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=[scope],
        actor=ADMIN,
    )
    assert result.ok
    assert not result.changed
    assert (
        AuditEvent.objects.get(seq=result.audit_seq).detail["already_present"] is True
    )
    assert (
        ScopeGrant.objects.filter(
            app=app, scope_id=scope, revoked_at__isnull=True
        ).count()
        == 1
    )


def test_an_out_of_band_grant_just_before_the_console_grant_keeps_its_own_row(
    sim, admin_okta, worker_client, full_synced
):
    """Another admin grants the scope in Okta moments before the console does: the
    console's POST finds it held. That grant is an external_grant by Okta's
    createdBy (the System Log actor), not folded into the console admin's row."""
    target = app_without(sim, "okta.users.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    made = sim.oob_grant(target["id"], "okta.users.read", ORG_ADMIN.login)
    other_admin = made["createdBy"]["id"]
    assert other_admin != SUPER.okta_id
    [result] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.users.read"],
        actor=ADMIN,
    )
    assert result.ok
    assert not result.changed
    external = AuditEvent.objects.get(action="external_grant", app_okta_id=target["id"])
    assert external.actor_id == other_admin
    assert external.scope_id == "okta.users.read"
    assert external.detail["okta_grant_id"] == made["id"]
    mine = AuditEvent.objects.get(seq=result.audit_seq)
    assert mine.detail["already_present"] is True
    assert mine.detail["made_by"] == other_admin
    row = ScopeGrant.objects.get(app=app, scope_id="okta.users.read", revoked_at=None)
    assert row.granted_by != SUPER.login
    assert row.created_by_id == other_admin
    # The System Log event of that grant, read later, adds no second row.
    services.run_incremental_sync(client=worker_client)
    assert AuditEvent.objects.filter(action="external_grant").count() == 1
    assert audit.verify().ok


def test_revoke_closes_the_local_row_and_is_idempotent(sim, admin_okta, full_synced):
    holder = app_with_grants(sim)
    app = OktaApp.objects.get(okta_id=holder["id"])
    scope = holder["grants"][0]["scopeId"]
    [first] = services.write_scopes(
        "revoke",
        client=admin_okta,
        app=app,
        scope_ids=[scope],
        actor=ADMIN,
    )
    [again] = services.write_scopes(
        "revoke",
        client=admin_okta,
        app=app,
        scope_ids=[scope],
        actor=ADMIN,
    )
    assert (first.ok, first.changed) == (True, True)
    assert (again.ok, again.changed) == (True, False)
    row = ScopeGrant.objects.get(app=app, scope_id=scope)
    assert row.revoked_by == SUPER.login
    assert db_state() == okta_state(sim)


def test_a_refused_grant_changes_nothing_locally(sim, admin_okta, full_synced):
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    head = AuditEvent.objects.count()
    [result] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.notAScope.read"],
        actor=ADMIN,
    )
    assert not result.ok
    assert result.status == 400
    assert _actions(head) == [
        ("grant_intent", "okta.notAScope.read", "pending"),
        ("grant", "okta.notAScope.read", "failure"),
    ]
    assert not ScopeGrant.objects.filter(
        app=app, scope_id="okta.notAScope.read"
    ).exists()


def test_a_read_only_admin_is_refused_and_the_rest_is_not_attempted(
    sim, readonly_client, full_synced
):
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    head = AuditEvent.objects.count()
    results = services.write_scopes(
        "grant",
        client=readonly_client,
        app=app,
        scope_ids=["okta.groups.read", "okta.users.read"],
        actor=READ_ONLY.actor,
    )
    assert [(r.ok, r.attempted, r.status) for r in results] == [
        (False, True, 403),
        (False, False, None),
    ]
    assert "Super Admin" in results[0].message
    assert _actions(head) == [
        ("grant_intent", "okta.groups.read", "pending"),
        ("grant", "okta.groups.read", "failure"),
    ]
    assert db_state() == okta_state(sim)


def test_refresh_app_records_what_changed_outside(sim, worker_client, full_synced):
    target = app_without(sim, "okta.groups.read")
    sim.oob_grant(
        app_id=target["id"],
        scope_id="okta.groups.read",
        actor_login=SUPER.login,
    )
    app = OktaApp.objects.get(okta_id=target["id"])
    result = services.refresh_app(
        client=worker_client, app=app, actor=Actor(login=SUPER.login)
    )
    assert result.error == ""
    assert result.change.added == ["okta.groups.read"]
    assert AuditEvent.objects.filter(action="external_grant", app=app).count() == 1
    assert audit.verify().ok


def test_a_grant_whose_outcome_was_never_recorded_is_settled_by_the_full_sync(
    sim, worker_client, admin_okta, full_synced
):
    """The web process died after Okta granted, before the final audit row."""
    from datetime import timedelta

    from django.utils import timezone

    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    intent = record_action(
        "grant_intent",
        app=app,
        scope_id="okta.groups.read",
        outcome="pending",
        at=timezone.now() - timedelta(minutes=15),
    )
    admin_okta.grant_scope(app.okta_id, "okta.groups.read")  # then the crash

    services.run_full_sync(client=worker_client)
    services.run_full_sync(client=worker_client)  # settles once only

    [final] = AuditEvent.objects.filter(action="grant", detail__intent_seq=intent.seq)
    assert final.outcome == "success"
    assert final.actor_login == SUPER.login
    assert final.detail["reconciled"] is True
    assert db_state() == okta_state(sim)
    assert audit.verify().ok


class _SyncAfterOktaAnswers(OktaClient):
    """The admin's client, with a full sync run between Okta's answer to a
    write and the console recording it: the race of B-5 made certain."""

    def __init__(self, base: OktaClient, worker: OktaClient) -> None:
        self.__dict__.update(base.__dict__)
        self.worker = worker

    def grant_scope(self, *args, **kwargs):
        result = super().grant_scope(*args, **kwargs)
        services.run_full_sync(client=self.worker)
        return result

    def revoke_scope(self, *args, **kwargs):
        result = super().revoke_scope(*args, **kwargs)
        services.run_full_sync(client=self.worker)
        return result


def test_a_sync_between_okta_and_our_commit_leaves_the_write_to_the_console(
    sim, admin_okta, worker_client, full_synced
):
    """One Okta change, one audit row: the sync that sees a console write in
    flight records no external_grant/external_revoke for it."""
    racing = _SyncAfterOktaAnswers(admin_okta, worker_client)
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    head = AuditEvent.objects.count()

    [granted] = services.write_scopes(
        "grant",
        client=racing,
        app=app,
        scope_ids=["okta.groups.read"],
        actor=ADMIN,
    )
    [revoked] = services.write_scopes(
        "revoke",
        client=racing,
        app=app,
        scope_ids=["okta.groups.read"],
        actor=ADMIN,
    )

    assert (granted.ok, granted.changed, revoked.ok, revoked.changed) == (True,) * 4
    rows = [r for r in _actions(head) if r[1] == "okta.groups.read"]
    assert rows == [
        ("grant_intent", "okta.groups.read", "pending"),
        ("grant", "okta.groups.read", "success"),
        ("revoke_intent", "okta.groups.read", "pending"),
        ("revoke", "okta.groups.read", "success"),
    ]
    assert db_state() == okta_state(sim)
    assert audit.verify().ok


def _dead_request(app: OktaApp, verb: str, seconds_ago: float) -> audit.AuditEvent:
    """The intent row a web worker wrote before it was killed mid-request."""
    from datetime import timedelta

    from django.utils import timezone

    return record_action(
        f"{verb}_intent",
        app=app,
        scope_id="okta.groups.read",
        outcome="pending",
        at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def test_a_sync_leaves_a_write_that_may_be_in_flight_then_settles_it(
    sim, admin_okta, worker_client, full_synced
):
    """Okta did the grant; the request's intent is younger than any request can
    live, so the sync leaves it alone; once older, the sync settles the intent
    (the admin's "grant" row, not an external change)."""
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    intent = _dead_request(app, "grant", seconds_ago=60)
    admin_okta.grant_scope(app.okta_id, "okta.groups.read")
    head = intent.seq

    services.run_full_sync(client=worker_client)
    assert [r for r in _actions(head) if r[1] == "okta.groups.read"] == []
    assert "okta.groups.read" not in db_state()[app.okta_id]

    old = _dead_request(app, "grant", seconds_ago=11 * 60)
    services.run_full_sync(client=worker_client)
    rows = [r for r in _actions(old.seq) if r[1] == "okta.groups.read"]
    assert rows == [("grant", "okta.groups.read", "success")]
    [final] = AuditEvent.objects.filter(action="grant", detail__intent_seq=old.seq)
    assert final.detail["reconciled"] is True
    assert final.actor_login == SUPER.login
    assert db_state() == okta_state(sim)
    assert audit.verify().ok


@pytest.mark.parametrize("verb", ["grant", "revoke"])
def test_a_retry_after_a_dead_request_reads_back_instead_of_writing_again(
    sim, admin_okta, full_synced, verb
):
    """A-3: the admin submits again after the web worker died with Okta's answer
    on the wire: the grants are read back, nothing is sent to Okta again, and
    the dead request's intent gets its one final row."""
    target = (
        app_without(sim, "okta.groups.read")
        if verb == "grant"
        else app_with_grants(sim, minimum=1)
    )
    app = OktaApp.objects.get(okta_id=target["id"])
    if verb == "revoke":
        services.write_scopes(
            "grant",
            client=admin_okta,
            app=app,
            scope_ids=["okta.groups.read"],
            actor=ADMIN,
        )
    intent = _dead_request(app, verb, seconds_ago=3)
    if verb == "grant":
        admin_okta.grant_scope(app.okta_id, "okta.groups.read")
    else:
        admin_okta.revoke_scope(app.okta_id, "okta.groups.read")
    mark = len(sim.requests())

    [result] = services.write_scopes(
        verb,
        client=admin_okta,
        app=app,
        scope_ids=["okta.groups.read"],
        actor=Actor(ORG_ADMIN.okta_id, "other.super@example.com"),
    )

    assert (result.ok, result.changed) == (True, True), result
    assert "not sent again" in result.message
    writes = [r for r in sim.requests()[mark:] if r["method"] in ("POST", "DELETE")]
    assert writes == []
    rows = [r for r in _actions(intent.seq) if r[1] == "okta.groups.read"]
    assert rows == [(verb, "okta.groups.read", "success")]
    [final] = AuditEvent.objects.filter(action=verb, detail__intent_seq=intent.seq)
    assert final.actor_login == SUPER.login  # the admin whose request did it
    assert final.detail["settled_by"] == "other.super@example.com"
    assert db_state() == okta_state(sim)
    assert audit.verify().ok


def test_a_retry_whose_earlier_attempt_never_reached_okta_writes_normally(
    sim, admin_okta, full_synced
):
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    _dead_request(app, "grant", seconds_ago=3)
    mark = len(sim.requests())

    [result] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.groups.read"],
        actor=ADMIN,
    )

    assert (result.ok, result.changed) == (True, True), result
    assert "not sent again" not in result.message
    posts = [r for r in sim.requests()[mark:] if r["method"] == "POST"]
    assert len(posts) == 1
    assert db_state() == okta_state(sim)


def test_abandoned_intents_are_settled_within_minutes(
    sim, admin_okta, worker_client, full_synced
):
    """A request died after Okta granted (and another before Okta revoked):
    the worker's check settles both from Okta, without waiting for a full sync."""
    granted_app = OktaApp.objects.get(
        okta_id=app_without(sim, "okta.groups.read")["id"]
    )
    done = _dead_request(granted_app, "grant", seconds_ago=11 * 60)
    admin_okta.grant_scope(granted_app.okta_id, "okta.groups.read")
    held = app_with_grants(sim, minimum=1)
    held_app = OktaApp.objects.get(okta_id=held["id"])
    not_done = record_action(
        "revoke_intent",
        app=held_app,
        scope_id=held["grants"][0]["scopeId"],
        outcome="pending",
        at=done.created_at,
    )
    fresh = _dead_request(held_app, "grant", seconds_ago=5)  # may be in flight

    assert services.settle_abandoned_intents(worker_client) == 2
    assert services.settle_abandoned_intents(worker_client) == 0

    [final] = AuditEvent.objects.filter(detail__intent_seq=done.seq, action="grant")
    assert (final.outcome, final.actor_login) == ("success", SUPER.login)
    [final] = AuditEvent.objects.filter(
        detail__intent_seq=not_done.seq, action="revoke"
    )
    assert final.outcome == "failure"
    assert not AuditEvent.objects.filter(detail__intent_seq=fresh.seq).exists()
    assert db_state() == okta_state(sim)
    assert audit.verify().ok


def test_a_grant_made_by_someone_else_is_not_taken_for_a_dead_request(
    sim, worker_client, full_synced
):
    """An intent left open by a dead request does not claim a grant another
    admin made outside the console: that is an external change, and the intent
    is closed as not done."""
    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    intent = _dead_request(app, "grant", seconds_ago=11 * 60)
    sim.oob_grant(target["id"], "okta.groups.read", actor_login=ORG_ADMIN.login)

    services.run_full_sync(client=worker_client)

    rows = [r for r in _actions(intent.seq) if r[1] == "okta.groups.read"]
    assert rows == [
        ("external_grant", "okta.groups.read", "success"),
        ("grant", "okta.groups.read", "failure"),
    ]
    assert db_state() == okta_state(sim)


def test_a_write_closed_as_failed_while_in_flight_gets_a_correction_row(
    sim, admin_okta, full_synced, monkeypatch
):
    """The request outlived INTENT_IN_FLIGHT and a sync closed its intent as
    failed; Okta then said yes: a success row names the failure row it corrects
    (rows are never edited) and the local grant opens."""
    from grantsconsole.grants import intents

    target = app_without(sim, "okta.groups.read")
    app = OktaApp.objects.get(okta_id=target["id"])
    real_grant = admin_okta.grant_scope

    def slow_grant(app_id, scope_id, **kwargs):
        intent = AuditEvent.objects.filter(action="grant_intent").latest("seq")
        intents.record_final(
            "grant",
            intent.seq,
            app=app,
            scope_id=scope_id,
            actor=intents.intent_actor(intent),
            outcome="failure",
            detail={"reconciled": True},
        )
        return real_grant(app_id, scope_id, **kwargs)

    monkeypatch.setattr(admin_okta, "grant_scope", slow_grant)
    [result] = services.write_scopes(
        "grant",
        client=admin_okta,
        app=app,
        scope_ids=["okta.groups.read"],
        actor=ADMIN,
    )

    closed, correction = AuditEvent.objects.filter(action="grant", app=app).order_by(
        "seq"
    )
    assert (result.ok, result.audit_seq) == (True, correction.seq)
    assert closed.outcome == "failure"
    assert correction.outcome == "success"
    assert correction.actor_login == SUPER.login
    assert correction.detail["corrects_seq"] == closed.seq
    assert correction.detail["intent_seq"] == closed.detail["intent_seq"]
    assert db_state() == okta_state(sim)
    assert audit.verify().ok
