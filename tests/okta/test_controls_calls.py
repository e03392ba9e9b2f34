"""The compensating-controls reads (client secrets, JWKS, the org's
public-client admin setting) and the app's auth method and network, over HTTP
against the simulator's demo org."""

from datetime import UTC, datetime, timedelta

import pytest

from grantsconsole.okta import (
    OktaInsufficientScope,
    OktaMalformedResponse,
    OktaNotFound,
    OktaPermissionDenied,
)
from grantsconsole.okta.models import AppNetwork, ParseError, parse_app

from .test_calls import api_requests


def app_id(sim, label):
    return next(a["id"] for a in sim.state()["apps"] if a["label"] == label)


def age_days(when: datetime | None, sim) -> int:
    now = datetime.fromtimestamp(sim.advance_clock(0)["now"], UTC)
    return round((now - when) / timedelta(days=1))


def test_secrets_come_without_their_values(sim, ssws_client):
    secrets = ssws_client.list_oauth2_client_secrets(app_id(sim, "HR Onboarding"))
    assert [age_days(s.created, sim) for s in secrets] == [400, 7]
    assert {s.status for s in secrets} == {"ACTIVE"}
    # The value is read off the wire but never kept.
    assert all(not hasattr(s, "client_secret") for s in secrets)
    assert "secret" not in repr(secrets).replace("ClientCredential", "")


def test_keys_of_a_service_app(sim, ssws_client):
    (key,) = ssws_client.list_jwk(app_id(sim, "Provisioning Bot"))
    assert key.id.startswith("pks")
    assert key.kid
    assert age_days(key.created, sim) == 30


def test_keys_wrapped_as_in_the_spec_example_are_read_too(sim, ssws_client):
    bot = app_id(sim, "Provisioning Bot")
    body = {"jwks": {"keys": [{"id": "pks1x", "status": "ACTIVE", "kid": "k"}]}}
    sim.fault(f"/apps/{bot}/credentials/jwks$", kind="wrong_shape", body=body)
    (key,) = ssws_client.list_jwk(bot)
    assert (key.id, key.kid, key.created) == ("pks1x", "k", None)


def test_unreadable_credentials_raise_not_empty(sim, ssws_client):
    crm = app_id(sim, "Legacy CRM")
    sim.fault(f"/apps/{crm}/credentials/secrets$", kind="wrong_shape")
    with pytest.raises(OktaMalformedResponse):
        ssws_client.list_oauth2_client_secrets(crm)
    sim.fault(
        f"/apps/{crm}/credentials/secrets$", kind="wrong_shape", body=[{"no": "id"}]
    )
    with pytest.raises(OktaMalformedResponse):
        ssws_client.list_oauth2_client_secrets(crm)
    with pytest.raises(OktaNotFound):
        ssws_client.list_oauth2_client_secrets("0oa1doesnotexist00000")
    sim.fault(f"/apps/{crm}/credentials/secrets$", status=403)
    with pytest.raises(OktaPermissionDenied):
        ssws_client.list_oauth2_client_secrets(crm)


def test_client_privileges_setting(sim, ssws_client, worker_client):
    assert ssws_client.get_client_privileges_setting() is True
    assert [r["path"] for r in api_requests(sim)] == [
        "/api/v1/org/settings/clientPrivilegesSetting"
    ]
    # A worker token without okta.orgs.read is refused the read.
    with pytest.raises(OktaInsufficientScope):
        worker_client.get_client_privileges_setting()
    sim.fault("/clientPrivilegesSetting$", kind="wrong_shape", body={"x": "on"})
    with pytest.raises(OktaMalformedResponse):
        ssws_client.get_client_privileges_setting()


def test_auth_method_and_network_come_with_the_listing(sim, ssws_client):
    apps = {a.label: a for a in ssws_client.iter_oidc_apps()}
    bot, crm = apps["Provisioning Bot"], apps["Legacy CRM"]
    assert bot.token_endpoint_auth_method == "private_key_jwt"
    assert bot.network == AppNetwork("ZONE", ("nzo1corpnetDEMO000x7",))
    assert crm.token_endpoint_auth_method == "client_secret_basic"
    assert crm.network is None
    assert apps["Travel Booking"].token_endpoint_auth_method == "none"


def test_an_unreadable_network_keeps_the_app():
    base = {
        "id": "0oa1x",
        "name": "oidc_client",
        "label": "X",
        "status": "ACTIVE",
        "signOnMode": "OPENID_CONNECT",
    }
    odd = {**base, "settings": {"oauthClient": {"network": {"connection": 3}}}}
    assert parse_app(odd).network.connection.startswith("unreadable")
    other = {**base, "settings": {"oauthClient": {"network": {"connection": "VPN"}}}}
    assert parse_app(other).network == AppNetwork("VPN")
    with pytest.raises(ParseError):
        parse_app({**base, "id": None})
