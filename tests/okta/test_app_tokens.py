"""Application Tokens: an app's refresh tokens listed across pages and revoked,
and the granted scopes of a token issuance read from the System Log."""

from datetime import UTC, datetime, timedelta

import pytest

from grantsconsole.okta import OktaInsufficientScope, OktaNotFound
from grantsconsole.okta.models import ParseError, parse_refresh_token

from .conftest import CONSOLE_ID, WORKER_ID


def app_id_of(sim, label):
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == label)


def test_lists_an_apps_refresh_tokens(sim, ssws_client):
    tokens = ssws_client.list_oauth2_tokens_for_application(
        app_id_of(sim, "Legacy CRM")
    )
    assert len(tokens) == 3
    assert all(t.id.startswith("oar") and t.status == "ACTIVE" for t in tokens)
    assert all("offline_access" in t.scopes for t in tokens)
    assert all(t.created < t.expires_at for t in tokens)
    assert len({t.user_id for t in tokens}) == 3


def test_listing_follows_every_page(sim, ssws_client):
    for _ in range(201):
        sim.token(login="end.user@example.com", scopes="openid offline_access")
    before = ssws_client.request_count
    tokens = ssws_client.list_oauth2_tokens_for_application(CONSOLE_ID)
    assert len(tokens) == 201
    assert len({t.id for t in tokens}) == 201
    assert ssws_client.request_count - before == 2


def test_revoke_ends_them_and_names_the_request(sim, ssws_client):
    app_id = app_id_of(sim, "Legacy CRM")
    done = ssws_client.revoke_oauth2_tokens_for_application(app_id)
    assert done.request_id
    assert sim.requests()[-1]["path"] == f"/api/v1/apps/{app_id}/tokens"
    assert ssws_client.list_oauth2_tokens_for_application(app_id) == []
    with pytest.raises(OktaNotFound):
        ssws_client.revoke_oauth2_tokens_for_application("0oa1doesnotexist00000")


def test_worker_cannot_revoke_without_apps_manage(sim, worker_client):
    app_id = app_id_of(sim, "Legacy CRM")
    assert len(worker_client.list_oauth2_tokens_for_application(app_id)) == 3
    with pytest.raises(OktaInsufficientScope):
        worker_client.revoke_oauth2_tokens_for_application(app_id)


def test_token_issuance_names_its_granted_scopes(sim, worker_client):
    page = worker_client.poll_logs(
        None,
        since=datetime.now(UTC) - timedelta(minutes=5),
        filter='eventType eq "app.oauth2.token.grant.access_token"',
    )
    (event,) = page.events  # the worker's own token for this call
    assert event.granted_scopes == (
        "okta.apps.read",
        "okta.appGrants.read",
        "okta.logs.read",
    )
    assert event.targets[0].id == WORKER_ID


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"id": "oar1", "scopes": ["a"]}, True),
        ({"id": "oar1"}, True),
        ({"scopes": ["a"]}, False),
        ({"id": "oar1", "scopes": "a b"}, False),
        ({"id": "oar1", "created": "yesterday"}, False),
        ([], False),
    ],
)
def test_refresh_token_parsing(raw, ok):
    if ok:
        assert parse_refresh_token(raw).id == "oar1"
    else:
        with pytest.raises(ParseError):
            parse_refresh_token(raw)
