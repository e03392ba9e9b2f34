"""The client's API service integration calls against the simulator."""

from __future__ import annotations

import pytest

from grantsconsole.okta import (
    OktaInsufficientScope,
    OktaMalformedResponse,
    OktaNotFound,
)

SERVICES = "/integrations/api/v1/api-services"


def test_lists_every_integration_across_pages(sim, ssws_client):
    for i in range(25):
        sim.oob_api_service("create", name=f"Int {i}", type=f"int_{i}", scopes=[])
    found = ssws_client.list_api_service_integration_instances()
    assert len(found) == len({s.id for s in found}) == 27
    acme = next(s for s in found if s.name == "Acme Log Streaming")
    assert acme.type == "acme_log_streaming"
    assert acme.granted_scopes == ("okta.logs.read", "okta.users.read")
    assert acme.created_by.startswith("00u")
    assert acme.created_at is not None
    pages = [r for r in sim.requests() if r["path"] == SERVICES]
    assert len(pages) == 2 == ssws_client.request_count


def test_secrets_and_get(sim, ssws_client):
    acme = next(
        s
        for s in ssws_client.list_api_service_integration_instances()
        if s.name == "Acme Log Streaming"
    )
    assert ssws_client.get_api_service_integration_instance(acme.id) == acme
    secrets = ssws_client.list_api_service_integration_instance_secrets(acme.id)
    assert [s.status for s in secrets] == ["INACTIVE", "ACTIVE"]
    old, new = secrets
    assert (new.created - old.created).days > 600


def test_delete_is_idempotent(sim, ssws_client):
    sid = ssws_client.list_api_service_integration_instances()[0].id
    first = ssws_client.delete_api_service_integration_instance(sid)
    assert not first.already_gone
    assert first.request_id
    assert ssws_client.delete_api_service_integration_instance(sid).already_gone
    with pytest.raises(OktaNotFound):
        ssws_client.get_api_service_integration_instance(sid)


def test_a_token_without_the_scope_is_refused_plainly(worker_client):
    # The test worker asks for apps, grants and logs scopes only.
    with pytest.raises(OktaInsufficientScope) as info:
        worker_client.list_api_service_integration_instances()
    assert "okta.oauthIntegrations.read" in str(info.value.explanation)


def test_an_unreadable_integration_fails_the_listing(sim, ssws_client):
    """Never a partial list: it would read as integrations removed."""
    sim.fault(f"{SERVICES}$", kind="wrong_shape", body=[{"name": "no id"}])
    with pytest.raises(OktaMalformedResponse):
        ssws_client.list_api_service_integration_instances()
