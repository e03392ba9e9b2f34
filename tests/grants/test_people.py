"""The people directory: each source fills it (sign-in, System Log, getUser),
and the worker's lookups are bounded, and survive a deleted user and a refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from grantsconsole import okta_clients
from grantsconsole.grants import services, tasks
from grantsconsole.grants.audit import Actor
from grantsconsole.grants.models import OktaPerson, SyncRun
from grantsconsole.grants.services import people
from tests.accounts import flow
from tests.factories import (
    APP_ADMIN,
    ORG_ADMIN,
    READ_ONLY,
    SUPER,
    make_app,
    make_grant,
    record_action,
)
from tests.grants.helpers import app_without

pytestmark = pytest.mark.django_db

GONE = "00u1deletedUSER00000"
WORKER_ID = "0oa1workerDEMO0000x7"


def _names(sim) -> dict[str, str]:
    return {u["id"]: u["display_name"] for u in sim.state()["users"]}


def _user_reads(sim, since: int = 0) -> list[str]:
    return [
        r["path"]
        for r in sim.requests(since)
        if r["path"].startswith("/api/v1/users/") and not r["path"].endswith("/roles")
    ]


def _person(okta_id: str) -> tuple[str, str, str, str]:
    p = OktaPerson.objects.get(okta_id=okta_id)
    return (p.login, p.display_name, p.source, p.state)


def test_a_sign_in_names_the_admin(sim):
    response = flow.sign_in(
        flow.console_client(), SUPER.login, browser=requests.Session()
    )
    assert response.status_code == 302
    assert _person(SUPER.okta_id) == (
        SUPER.login,
        _names(sim)[SUPER.okta_id],
        "sign-in",
        "named",
    )


def test_the_system_log_names_who_changed_a_grant(sim, worker_client, full_synced):
    services.run_incremental_sync(client=worker_client)  # past the seed's events
    target = app_without(sim, "okta.groups.read")
    sim.oob_grant(
        app_id=target["id"], scope_id="okta.groups.read", actor_login=ORG_ADMIN.login
    )
    before = len(sim.requests())
    services.run_incremental_sync(client=worker_client)
    assert _person(ORG_ADMIN.okta_id) == (
        ORG_ADMIN.login,
        _names(sim)[ORG_ADMIN.okta_id],
        "system-log",
        "named",
    )
    assert _user_reads(sim, before) == []  # the event named them: no lookup


def test_the_worker_reads_ids_nobody_named_once(sim, worker_client):
    app = make_app()
    make_grant(app, "okta.users.read", by=APP_ADMIN)
    record_action("external_revoke", by=Actor(READ_ONLY.okta_id, ""), app=app)
    record_action("sign_in", by=SUPER)
    people.note_person(SUPER.okta_id, login=SUPER.login, display_name="S", source="x")

    assert services.refresh_people(worker_client) == 2

    names = _names(sim)
    assert _person(APP_ADMIN.okta_id) == (
        APP_ADMIN.login,
        names[APP_ADMIN.okta_id],
        "okta",
        "named",
    )
    assert _person(READ_ONLY.okta_id)[:3] == (
        READ_ONLY.login,
        names[READ_ONLY.okta_id],
        "okta",
    )
    assert sorted(_user_reads(sim)) == sorted(
        f"/api/v1/users/{p.okta_id}" for p in (APP_ADMIN, READ_ONLY)
    )
    before = len(sim.requests())
    assert services.refresh_people(worker_client) == 0
    assert _user_reads(sim, before) == []


def test_a_user_okta_no_longer_has_is_marked_deleted(sim, worker_client):
    make_grant(make_app(), "okta.users.read", created_by_id=GONE)
    assert services.refresh_people(worker_client) == 0
    assert _person(GONE) == ("", "", "okta", "deleted")
    before = len(sim.requests())
    services.refresh_people(worker_client)
    assert _user_reads(sim, before) == []


def test_a_refused_read_marks_the_batch_and_waits_before_asking_again(
    sim, worker_client
):
    sim.oob_revoke(WORKER_ID, "okta.users.read")
    okta_clients.forget_worker_clients()
    client = okta_clients.worker_client()
    app = make_app()
    make_grant(app, "okta.users.read", by=APP_ADMIN)
    make_grant(app, "okta.groups.read", by=ORG_ADMIN)

    assert services.refresh_people(client) == 0

    assert len(_user_reads(sim)) == 1  # the first refusal stops the batch
    for persona in (APP_ADMIN, ORG_ADMIN):
        assert _person(persona.okta_id) == ("", "", "okta", "unreadable")
    before = len(sim.requests())
    assert services.refresh_people(client) == 0
    assert _user_reads(sim, before) == []
    # An hour later the worker asks again (its app now holds the scope).
    OktaPerson.objects.update(
        refreshed_at=OktaPerson.objects.get(okta_id=APP_ADMIN.okta_id).refreshed_at
        - people.RETRY_UNREADABLE
        - timedelta(seconds=1)
    )
    sim.oob_grant(WORKER_ID, "okta.users.read")
    okta_clients.forget_worker_clients()
    assert services.refresh_people(okta_clients.worker_client()) == 2
    assert _person(APP_ADMIN.okta_id)[3] == "named"


def test_lookups_per_sync_are_bounded(sim, worker_client):
    app = make_app()
    for n in range(people.LOOKUPS_PER_SYNC + 5):
        make_grant(app, f"okta.scope{n}.read", created_by_id=f"00u1gone{n:012d}")
    services.refresh_people(worker_client)
    assert len(_user_reads(sim)) == people.LOOKUPS_PER_SYNC
    services.refresh_people(worker_client)
    assert len(_user_reads(sim)) == people.LOOKUPS_PER_SYNC + 5


def test_the_incremental_sync_task_names_grant_creators(
    sim, worker_client, full_synced
):
    creators = {
        g["createdBy"]["id"]
        for a in sim.state()["apps"]
        for g in a["grants"]
        if g["createdBy"]["type"] == "User"
    }
    assert creators
    assert not OktaPerson.objects.exists()
    tasks.incremental_sync()
    named = dict(OktaPerson.objects.values_list("okta_id", "display_name"))
    assert {c: named.get(c) for c in creators} == {c: _names(sim)[c] for c in creators}


def test_no_lookups_while_okta_fails_the_sync(sim, worker_client, full_synced):
    sim.fault("/api/v1/logs", status=500, times=-1)
    before = len(sim.requests())
    run = SyncRun.objects.get(pk=tasks.incremental_sync())
    assert run.status == SyncRun.Status.FAILED
    assert _user_reads(sim, before) == []
    assert not OktaPerson.objects.exists()


def test_the_worker_names_who_authorized_an_api_service_integration(sim, worker_client):
    from grantsconsole.grants.models import ApiServiceIntegration

    ApiServiceIntegration.objects.create(
        okta_id="0oa1integration00000", name="Acme", created_by_id=ORG_ADMIN.okta_id
    )
    assert ORG_ADMIN.okta_id in people.unnamed_ids()
    assert services.refresh_people(worker_client) == 1
    assert _person(ORG_ADMIN.okta_id)[:3] == (
        ORG_ADMIN.login,
        _names(sim)[ORG_ADMIN.okta_id],
        "okta",
    )
