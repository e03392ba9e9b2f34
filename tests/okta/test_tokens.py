"""Token sources against the simulator's org authorization server."""

import base64
import hashlib
import json

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from grantsconsole.okta import (
    OktaClient,
    OktaInsufficientScope,
    OktaTokenRefused,
    OktaUnauthorized,
    OrgAuthorizationServer,
    ServiceAppTokenSource,
    SswsTokenSource,
    TokenSet,
    UserTokenSource,
)
from grantsconsole.okta.tokens import jwk_thumbprint

from .conftest import (
    CONSOLE_ID,
    CONSOLE_SECRET,
    WORKER_ID,
    WORKER_PEM,
    WORKER_SCOPES,
    user_source,
)

CONSOLE = "0oa1consoleDEMO000x7"


def token_calls(sim):
    return [r for r in sim.requests() if r["path"] == "/oauth2/v1/token"]


def api_calls(sim):
    return [r for r in sim.requests() if r["path"].startswith("/api/v1")]


# -- service app: client_credentials + private_key_jwt ------------------------------


def test_service_app_token_is_fetched_once_and_cached(
    sim, worker_client, worker_source
):
    for _ in range(5):
        worker_client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 1
    assert token_calls(sim)[0]["status"] == 200
    assert worker_source.token_requests == 1
    assert worker_source.granted_scopes() == frozenset(WORKER_SCOPES)
    assert all(r["caller"] == WORKER_ID for r in api_calls(sim))


def test_assertion_claims_and_kid(sim, worker_source):
    public = serialization.load_pem_private_key(
        WORKER_PEM.encode(), password=None
    ).public_key()
    first, second = worker_source._assertion(), worker_source._assertion()
    header = jwt.get_unverified_header(first)
    claims = jwt.decode(
        first, public, algorithms=["RS256"], audience=f"{sim.url}/oauth2/v1/token"
    )
    assert header["alg"] == "RS256"
    jwks = sim.state()["apps"]
    assert header["kid"] == worker_source.key_id
    assert claims["iss"] == claims["sub"] == WORKER_ID
    assert claims["aud"] == f"{sim.url}/oauth2/v1/token"
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert (
        claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]
    )
    assert jwks  # the simulator accepted this kid in the other tests


def test_service_app_token_refreshed_before_expiry(sim, worker_client, clock):
    worker_client.list_grants(CONSOLE)
    clock.sleep(3600 - 30)  # inside the refresh margin (both clocks move)
    worker_client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 2
    assert [r["status"] for r in api_calls(sim)] == [200, 200]


def test_service_app_refetches_once_on_401(sim, worker_client, clock):
    worker_client.list_grants(CONSOLE)
    clock.offset += 10  # the token is no longer "just fetched" (local time only)
    sim.fault("/grants$", status=401)
    worker_client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 2
    assert [r["status"] for r in api_calls(sim)] == [200, 401, 200]


def test_service_app_never_loops_on_401(sim, worker_client, clock):
    worker_client.list_grants(CONSOLE)
    clock.offset += 10
    sim.fault("/grants$", status=401, times=-1)
    with pytest.raises(OktaUnauthorized):
        worker_client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 2  # one re-fetch, no more
    assert [r["status"] for r in api_calls(sim)] == [200, 401, 401]
    with pytest.raises(OktaUnauthorized):  # and a fresh token is not re-fetched again
        worker_client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 2


def test_wrong_key_is_refused_by_the_token_endpoint(sim, clock):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    source = ServiceAppTokenSource(sim.url, WORKER_ID, pem, key_id=None, clock=clock)
    with pytest.raises(OktaUnauthorized) as err:
        OktaClient(sim.url, source, clock=clock).list_grants(CONSOLE)
    assert err.value.error_code == "invalid_client"
    assert err.value.path == "/oauth2/v1/token"
    assert api_calls(sim) == []


def test_unknown_key_id_is_refused_as_okta_words_it(sim, clock):
    source = ServiceAppTokenSource(
        sim.url, WORKER_ID, WORKER_PEM, key_id="no-such-kid", clock=clock
    )
    with pytest.raises(OktaTokenRefused) as err:
        source.granted_scopes()
    assert err.value.status == 401
    assert err.value.error_code == "invalid_client"
    assert err.value.error_summary == "The client_assertion JWT kid is invalid."
    assert err.value.problem == "key_id"
    assert "key id (kid)" in err.value.explanation


def test_no_grantable_scope_is_an_invalid_scope_refusal(sim, worker_source):
    for scope in WORKER_SCOPES:
        sim.oob_revoke(WORKER_ID, scope)
    with pytest.raises(OktaTokenRefused) as err:
        worker_source.granted_scopes()
    assert (err.value.status, err.value.error_code) == (400, "invalid_scope")
    assert err.value.problem == "scope"
    assert err.value.error_summary  # Okta's error_description, kept as sent


def test_scope_granted_after_the_token_was_minted_gets_one_new_token(
    sim, worker_client, clock
):
    sim.oob_revoke(WORKER_ID, "okta.logs.read")
    worker_client.list_grants(CONSOLE)  # the cached token lacks okta.logs.read
    clock.offset += 10  # the token is no longer "just fetched"
    sim.oob_grant(WORKER_ID, "okta.logs.read")
    page = worker_client.poll_logs(None, limit=1)
    assert page.next_url
    assert len(token_calls(sim)) == 2
    assert [r["status"] for r in api_calls(sim)] == [200, 403, 200]
    assert "okta.logs.read" in worker_client.token_source.granted_scopes()


def test_a_scope_still_missing_costs_one_new_token_and_no_loop(
    sim, worker_client, clock
):
    sim.oob_revoke(WORKER_ID, "okta.logs.read")
    worker_client.list_grants(CONSOLE)
    clock.offset += 10
    with pytest.raises(OktaInsufficientScope) as err:
        worker_client.poll_logs(None, limit=1)
    assert err.value.scope == "okta.logs.read"
    assert len(token_calls(sim)) == 2  # one new token, which did not help
    assert [r["status"] for r in api_calls(sim)] == [200, 403]
    with pytest.raises(OktaInsufficientScope):  # a token just minted: no new one
        worker_client.poll_logs(None, limit=1)
    assert len(token_calls(sim)) == 2


def test_unreadable_key_is_a_value_error_without_the_key():
    with pytest.raises(ValueError, match="not a readable private key") as err:
        ServiceAppTokenSource("http://127.0.0.1:1", WORKER_ID, "-----BEGIN junk-----")
    assert "junk" not in str(err.value)


# -- the signed-in admin: refresh_token ------------------------------------------------


def test_user_token_refreshed_before_expiry(sim, admin_tokens, clock):
    stored: list[TokenSet] = []
    source = user_source(
        sim, admin_tokens, clock, expires_at=clock.now() + 30, on_refresh=stored.append
    )
    client = OktaClient(sim.url, source, clock=clock)
    client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 1
    assert len(stored) == 1
    assert stored[0].access_token != admin_tokens["access_token"]
    assert stored[0].refresh_token == admin_tokens["refresh_token"]
    assert stored[0].expires_at > clock.now() + 3000
    assert "okta.appGrants.manage" in stored[0].scope.split()
    client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 1  # the new token is used, not refreshed again


def test_user_token_refreshed_once_on_401(sim, admin_tokens, clock):
    """The token expired by Okta's clock but not by ours: 401, refresh, retry."""
    stored: list[TokenSet] = []
    source = user_source(sim, admin_tokens, clock, on_refresh=stored.append)
    client = OktaClient(sim.url, source, clock=clock)
    sim.advance_clock(3700)  # only the simulator's clock moves
    assert client.list_grants(CONSOLE)
    assert [r["status"] for r in api_calls(sim)] == [401, 200]
    assert len(token_calls(sim)) == 1
    assert len(stored) == 1


def test_refused_refresh_asks_to_sign_in_again_without_looping(
    sim, admin_tokens, clock
):
    source = UserTokenSource(
        sim.url,
        CONSOLE_ID,
        CONSOLE_SECRET,
        admin_tokens["access_token"],
        "not-a-refresh-token",
        clock.now() + 3600,
        clock=clock,
    )
    client = OktaClient(sim.url, source, clock=clock)
    sim.advance_clock(3700)
    with pytest.raises(OktaUnauthorized) as err:
        client.list_grants(CONSOLE)
    assert "Sign in again" in err.value.explanation
    assert len(token_calls(sim)) == 1
    assert len(api_calls(sim)) == 1


def test_on_refresh_failure_does_not_fail_the_call(sim, admin_tokens, clock):
    def broken(tokens):
        raise RuntimeError("database down")

    source = user_source(
        sim, admin_tokens, clock, expires_at=clock.now() + 1, on_refresh=broken
    )
    assert OktaClient(sim.url, source, clock=clock).list_grants(CONSOLE)


def test_granted_scopes(sim, admin_tokens, clock):
    source = user_source(sim, admin_tokens, clock)
    assert "okta.appGrants.manage" in source.granted_scopes()
    assert SswsTokenSource("x").granted_scopes() == frozenset()
    assert not SswsTokenSource("x").refresh_after_unauthorized("SSWS x")


def test_token_endpoint_hiccups_are_retried_with_fresh_assertions(
    sim, worker_client, clock
):
    sim.fault("/oauth2/v1/token$", method="POST", status=503)
    sim.fault("/oauth2/v1/token$", method="POST", kind="drop")
    assert worker_client.list_grants(CONSOLE)
    assert [r["status"] for r in token_calls(sim)] == [503, 0, 200]
    # the transport's backoff, as for API calls: jittered within [d/2, d]
    first, second = clock.slept
    assert 0.25 <= first <= 0.5
    assert 0.5 <= second <= 1.0


def test_token_endpoint_down_is_a_server_error_after_bounded_attempts(
    sim, worker_client
):
    from grantsconsole.okta import OktaServerError

    sim.fault("/oauth2/v1/token$", method="POST", status=500, times=-1)
    with pytest.raises(OktaServerError):
        worker_client.list_grants(CONSOLE)
    assert len(token_calls(sim)) == 3
    assert api_calls(sim) == []


def test_token_endpoint_errors_carry_what_okta_sent_like_api_errors(sim, worker_source):
    """The token endpoint's failures go through the transport's error mapping:
    Okta's errorId (what Okta support asks for) is kept, as for API calls."""
    from grantsconsole.okta import OktaServerError

    body = {
        "errorCode": "E0000009",
        "errorSummary": "Internal Server Error",
        "errorId": "oaeTOKEN500",
        "errorCauses": [],
    }
    sim.fault("/oauth2/v1/token$", method="POST", status=500, times=-1, body=body)
    with pytest.raises(OktaServerError) as err:
        worker_source.granted_scopes()
    assert (err.value.status, err.value.error_id) == (500, "oaeTOKEN500")
    assert err.value.request_id  # the X-Okta-Request-Id of the last attempt
    assert worker_source.token_requests == 3


# -- revocation (RFC 7009) ---------------------------------------------------------


def _active(sim, token: str) -> bool:
    response = requests.post(
        f"{sim.url}/oauth2/v1/introspect",
        data={"token": token},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=10,
    )
    return response.json()["active"]


def test_revoke_ends_the_token_and_is_idempotent(sim, admin_tokens, clock):
    server = OrgAuthorizationServer(sim.url, CONSOLE_ID, CONSOLE_SECRET, clock=clock)
    refresh = admin_tokens["refresh_token"]
    assert _active(sim, refresh)
    server.revoke(refresh, "refresh_token")
    server.revoke(refresh, "refresh_token")  # already revoked: still 200
    assert not _active(sim, refresh)
    revokes = [r for r in sim.requests() if r["path"] == "/oauth2/v1/revoke"]
    assert [r["status"] for r in revokes] == [200, 200]


def test_revoke_is_retried_after_a_server_error(sim, admin_tokens, clock):
    sim.fault("/oauth2/v1/revoke$", method="POST", status=503)
    server = OrgAuthorizationServer(sim.url, CONSOLE_ID, CONSOLE_SECRET, clock=clock)
    server.revoke(admin_tokens["access_token"], "access_token")
    revokes = [r for r in sim.requests() if r["path"] == "/oauth2/v1/revoke"]
    assert [r["status"] for r in revokes] == [503, 200]
    assert not _active(sim, admin_tokens["access_token"])


def test_revoke_refused_for_a_wrong_client_secret(sim, admin_tokens, clock):
    server = OrgAuthorizationServer(sim.url, CONSOLE_ID, "wrong-secret", clock=clock)
    with pytest.raises(OktaTokenRefused) as err:
        server.revoke(admin_tokens["access_token"], "access_token")
    assert (err.value.status, err.value.error_code) == (401, "invalid_client")
    assert err.value.path == "/oauth2/v1/revoke"
    assert "wrong-secret" not in repr(err.value) + str(err.value)
    assert _active(sim, admin_tokens["access_token"])


# -- key id ------------------------------------------------------------------------


def test_jwk_thumbprint_matches_rfc_7638():
    """The example of RFC 7638 section 3.1."""
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFF"
        "xuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt"
        "7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6"
        "qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksIN"
        "HaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    key = RSAAlgorithm.from_jwk({"kty": "RSA", "n": n, "e": "AQAB"})
    assert jwk_thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_jwk_thumbprint_of_an_ec_key_covers_crv_kty_x_y():
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    jwk = ECAlgorithm.to_jwk(key, as_dict=True)
    members = json.dumps(
        {"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]},
        separators=(",", ":"),
    )
    expected = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest())
    assert jwk_thumbprint(key) == expected.rstrip(b"=").decode()
