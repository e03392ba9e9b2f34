"""Forged or replayed callbacks are refused with a clear page and a security
event (not an audit row: anyone can send one), and nothing is stored.

ID-token forgeries: the real code exchange at the simulator is answered (by a
simulator fault rule) with a token response whose ID token was minted with the
simulator's own signing key but wrong claims, or not signed by it at all.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import escape

from grantsconsole.accounts.models import OktaCredential, SecurityEvent
from grantsconsole.accounts.refusals import OKTA_ERROR_UNKNOWN, OKTA_ERRORS
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow

pytestmark = pytest.mark.django_db(transaction=True)

SCOPES = "openid profile email offline_access okta.apps.read okta.appGrants.read okta.appGrants.manage okta.roles.read"


def assert_refused(client: Client, response: Any, reason: str) -> None:
    assert response.status_code == 400, response.content[:800]
    assert f'data-reason="{reason}"'.encode() in response.content
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.exists()
    assert not SocialAccount.objects.exists()
    assert not OktaCredential.objects.exists()
    assert not AuditEvent.objects.filter(action="sign_in", outcome="failure").exists()
    event = SecurityEvent.objects.get(kind=f"sign_in:{reason}")
    assert (event.source, event.count) == ("127.0.0.1", 1)
    assert event.sample_path == flow.CALLBACK_PATH


def test_forged_state_is_refused(sim) -> None:
    client = flow.console_client()
    callback = flow.okta_login(flow.start(client), flow.SUPER)
    code = flow.query(callback)["code"]
    response = client.get(
        flow.CALLBACK_PATH, {"code": code, "state": "forged-state-value"}
    )
    assert_refused(client, response, "state_invalid")


def test_missing_state_is_refused(sim) -> None:
    client = flow.console_client()
    callback = flow.okta_login(flow.start(client), flow.SUPER)
    response = client.get(flow.CALLBACK_PATH, {"code": flow.query(callback)["code"]})
    assert_refused(client, response, "state_invalid")


def test_callback_from_another_browser_is_refused(sim) -> None:
    """Login CSRF: an attacker's code+state delivered to a victim's browser."""
    attacker = flow.console_client()
    callback = flow.okta_login(flow.start(attacker), flow.SUPER)
    victim = flow.console_client()
    assert_refused(victim, flow.finish(victim, callback), "state_invalid")


def test_replayed_callback_is_refused(sim) -> None:
    client = flow.console_client()
    callback = flow.okta_login(flow.start(client), flow.SUPER)
    assert flow.finish(client, callback).status_code == 302
    client.logout()
    OktaCredential.objects.all().delete()
    get_user_model().objects.all().delete()
    assert_refused(client, flow.finish(client, callback), "state_invalid")


def test_replayed_code_with_a_new_state_is_refused(sim) -> None:
    client = flow.console_client()
    old_callback = flow.okta_login(flow.start(client), flow.SUPER)
    new_state = flow.query(flow.start(client))["state"]
    response = client.get(
        flow.CALLBACK_PATH,
        {"code": flow.query(old_callback)["code"], "state": new_state},
    )
    assert_refused(client, response, "code_rejected")


@pytest.mark.parametrize(
    ("error", "reason"),
    [("access_denied", "cancelled"), ("invalid_scope", "scope_not_granted")],
)
def test_okta_error_redirect_is_explained(sim, error: str, reason: str) -> None:
    client = flow.console_client()
    state = flow.query(flow.start(client))["state"]
    response = client.get(
        flow.CALLBACK_PATH,
        {"error": error, "error_description": "Okta said no.", "state": state},
    )
    assert_refused(client, response, reason)
    assert escape(OKTA_ERRORS[error]) in response.content.decode()
    assert b"Okta said no." not in response.content


def test_the_refusal_page_never_echoes_the_query_string(sim) -> None:
    """An attacker's link to the callback cannot put words on the console's
    page: unknown codes get a generic sentence, descriptions are never shown."""
    client = flow.console_client()
    state = flow.query(flow.start(client))["state"]
    planted = "Call_the_helpdesk_at_555-0100"
    response = client.get(
        flow.CALLBACK_PATH,
        {"error": planted, "error_description": planted + " now", "state": state},
    )
    assert_refused(client, response, "okta_error")
    page = response.content.decode()
    assert planted not in page
    assert escape(OKTA_ERROR_UNKNOWN) in page


def _forge(sim_server, sim, nonce: str, kind: str) -> str:
    """An ID token for the Super Admin, wrong in the way ``kind`` says."""
    user = next(u for u in sim.state()["users"] if u["login"] == flow.SUPER)
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user["id"],
        "iss": sim.url,
        "aud": "0oa1consoleDEMO000x7",
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "nonce": nonce,
        "email": flow.SUPER,
        "preferred_username": flow.SUPER,
    }
    oauth = sim_server.sim.oauth  # the simulator's Org AS: its signing key and kid
    if kind == "wrong_nonce":
        claims["nonce"] = "nonce-of-another-sign-in"
    elif kind == "wrong_issuer":
        claims["iss"] = "https://evil.example.com"
    elif kind == "wrong_audience":
        claims["aud"] = "0oa1someOtherAppXXx7"
    elif kind == "expired":
        claims.update(iat=now - 7200, exp=now - 3600)
    elif kind == "unsigned":
        return jwt.encode(claims, None, algorithm="none")
    elif kind == "bad_signature":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(claims, other, algorithm="RS256", headers={"kid": oauth.kid})
    return jwt.encode(claims, oauth.key, algorithm="RS256", headers={"kid": oauth.kid})


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("wrong_nonce", "nonce_mismatch"),
        ("wrong_issuer", "wrong_issuer"),
        ("wrong_audience", "wrong_audience"),
        ("expired", "expired"),
        ("unsigned", "unsigned"),
        ("bad_signature", "bad_signature"),
    ],
)
def test_bad_id_token_is_refused(sim_server, sim, kind: str, reason: str) -> None:
    client = flow.console_client()
    authorize = flow.start(client)
    callback = flow.okta_login(authorize, flow.SUPER)
    real = sim.token(login=flow.SUPER, scopes=SCOPES)
    body = {
        "token_type": "Bearer",
        "expires_in": 3600,
        "access_token": real["access_token"],
        "scope": SCOPES,
        "id_token": _forge(sim_server, sim, flow.query(authorize)["nonce"], kind),
    }
    sim.fault(r"^/oauth2/v1/token$", kind="wrong_shape", method="POST", body=body)
    response = flow.finish(client, callback)
    assert_refused(client, response, reason)
    # refused before the role check: no Okta API call was made with the token
    assert not [r for r in sim.requests() if r["path"].startswith("/api/v1/users/")]


def test_control_case_a_correct_forgery_would_pass(sim_server, sim) -> None:
    """The forging harness itself is sound: correct claims are accepted."""
    client = flow.console_client()
    authorize = flow.start(client)
    callback = flow.okta_login(authorize, flow.SUPER)
    real = sim.token(login=flow.SUPER, scopes=SCOPES)
    body = {
        "token_type": "Bearer",
        "expires_in": 3600,
        "access_token": real["access_token"],
        "refresh_token": real.get("refresh_token", ""),
        "scope": SCOPES,
        "id_token": _forge(sim_server, sim, flow.query(authorize)["nonce"], "valid"),
    }
    sim.fault(r"^/oauth2/v1/token$", kind="wrong_shape", method="POST", body=body)
    assert flow.finish(client, callback).status_code == 302
    assert OktaCredential.objects.count() == 1
