"""The Org Authorization Server over real HTTP: sign-in (authorization code + PKCE),
tokens and their claims, refresh, userinfo, revoke, introspect, logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from .conftest import (
    CONSOLE_ID,
    CONSOLE_REDIRECT,
    CONSOLE_SECRET,
    bearer,
    exchange_code,
    pkce_pair,
    sign_in,
)


def keys(url):
    return jwt.PyJWKSet.from_dict(
        requests.get(f"{url}/oauth2/v1/keys", timeout=5).json()
    )


def decode(url, token, audience):
    header = jwt.get_unverified_header(token)
    key = next(k for k in keys(url).keys if k.key_id == header["kid"])
    return jwt.decode(
        token, key.key, algorithms=["RS256"], audience=audience, issuer=url
    )


def authorize(url, session=None, **params):
    _verifier, challenge = pkce_pair()
    base = {
        "client_id": CONSOLE_ID,
        "response_type": "code",
        "scope": "openid profile email",
        "redirect_uri": CONSOLE_REDIRECT,
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    base.update(params)
    base = {k: v for k, v in base.items() if v is not None}
    return (session or requests).get(
        f"{url}/oauth2/v1/authorize", params=base, allow_redirects=False, timeout=10
    )


def redirect_query(resp):
    assert resp.status_code == 302, resp.text
    return {
        k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()
    }


def test_keys_are_an_rs256_jwks(sim):
    jwks = requests.get(f"{sim.url}/oauth2/v1/keys", timeout=5).json()
    assert [(k["kty"], k["alg"], k["use"]) for k in jwks["keys"]] == [
        ("RSA", "RS256", "sig")
    ]
    assert {"kid", "n", "e"} <= set(jwks["keys"][0])


def test_sign_in_issues_okta_shaped_tokens(sim):
    _, q = sign_in(sim.url)
    assert q["state"] == q["sent_state"]
    r = exchange_code(sim.url, q)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {
        "openid",
        "profile",
        "email",
        "offline_access",
        "okta.apps.read",
        "okta.appGrants.read",
        "okta.appGrants.manage",
        "okta.roles.read",
    }
    assert body["refresh_token"]
    at = decode(sim.url, body["access_token"], audience=sim.url)
    users = {u["login"]: u["id"] for u in sim.state()["users"]}
    assert at["ver"] == 1
    assert at["jti"].startswith("AT.")
    assert at["exp"] - at["iat"] == 3600
    assert at["cid"] == CONSOLE_ID
    assert at["uid"] == users["super.admin@example.com"]
    assert at["sub"] == "super.admin@example.com"
    assert isinstance(at["scp"], list)
    assert "okta.appGrants.manage" in at["scp"]
    idt = decode(sim.url, body["id_token"], audience=CONSOLE_ID)
    assert idt["sub"] == users["super.admin@example.com"]
    assert idt["nonce"] == q["nonce"]
    assert idt["amr"] == ["pwd"]
    assert idt["auth_time"] <= idt["iat"]
    assert idt["email"] == "super.admin@example.com"


def test_token_works_on_the_api_and_userinfo(sim):
    _, q = sign_in(sim.url)
    token = exchange_code(sim.url, q).json()["access_token"]
    apps = requests.get(f"{sim.url}/api/v1/apps", headers=bearer(token), timeout=5)
    assert apps.status_code == 200
    info = requests.get(
        f"{sim.url}/oauth2/v1/userinfo", headers=bearer(token), timeout=5
    )
    assert info.status_code == 200
    assert info.json()["preferred_username"] == "super.admin@example.com"


def test_wrong_password_shows_the_form_again(sim):
    page = authorize(sim.url)
    assert page.status_code == 200
    r = requests.post(
        f"{sim.url}/oauth2/v1/authorize/login",
        data={
            "client_id": CONSOLE_ID,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": CONSOLE_REDIRECT,
            "state": "s",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "username": "super.admin@example.com",
            "password": "wrong",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 401
    assert "Unable to sign in" in r.text
    assert "wrong" not in r.text  # the password is never echoed


def test_code_is_single_use(sim):
    _, q = sign_in(sim.url)
    assert exchange_code(sim.url, q).status_code == 200
    again = exchange_code(sim.url, q)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_pkce_verifier_must_match(sim):
    _, q = sign_in(sim.url)
    q["verifier"] = pkce_pair()[0]
    r = exchange_code(sim.url, q)
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": "PKCE verification failed.",
    }


def test_redirect_uri_must_match_the_authorize_request(sim):
    _, q = sign_in(sim.url)
    r = exchange_code(
        sim.url, q, redirect_uri=CONSOLE_REDIRECT.replace("127.0.0.1", "localhost")
    )
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(sim):
    _, q = sign_in(sim.url)
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": q["code"],
            "redirect_uri": CONSOLE_REDIRECT,
            "code_verifier": q["verifier"],
        },
        auth=(CONSOLE_ID, "not-the-secret"),
        timeout=5,
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_client_secret_post_is_accepted(sim):
    _, q = sign_in(sim.url)
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={
            "grant_type": "authorization_code",
            "code": q["code"],
            "redirect_uri": CONSOLE_REDIRECT,
            "code_verifier": q["verifier"],
            "client_id": CONSOLE_ID,
            "client_secret": CONSOLE_SECRET,
        },
        timeout=5,
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8000/accounts/oidc/okta/login/callback/",
        "http://localhost:8000/accounts/oidc/okta/login/callback/",
        "http://127.0.0.1:54321/accounts/oidc/okta/login/callback/",  # any loopback port
    ],
)
def test_console_redirect_uris_accepted(sim, uri):
    r = authorize(sim.url, redirect_uri=uri)
    assert r.status_code == 200
    assert "okta-signin-username" in r.text


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8000/accounts/oidc/okta/login/callback",  # no trailing slash
        "http://127.0.0.1:8000/somewhere/else/",
        "https://127.0.0.1:8000/accounts/oidc/okta/login/callback/",
        "http://evil.example.com:8000/accounts/oidc/okta/login/callback/",
    ],
)
def test_other_redirect_uris_get_an_error_page_not_a_redirect(sim, uri):
    r = authorize(sim.url, redirect_uri=uri)
    assert r.status_code == 400
    assert "Location" not in r.headers
    assert "redirect_uri" in r.text


def test_loopback_any_port_is_only_for_the_console(sim):
    app = next(a for a in sim.state()["apps"] if a["label"] == "Payroll Portal")
    r = authorize(
        sim.url,
        client_id=app["id"],
        redirect_uri="http://127.0.0.1:54321/accounts/oidc/okta/login/callback/",
    )
    assert r.status_code == 400


def test_unknown_client_gets_an_error_page(sim):
    r = authorize(sim.url, client_id="0oa1nosuchclient00000")
    assert r.status_code == 400
    assert "Location" not in r.headers


def test_pkce_is_required_and_s256_only(sim):
    q = redirect_query(
        authorize(sim.url, code_challenge=None, code_challenge_method=None)
    )
    assert q["error"] == "invalid_request"
    assert q["state"] == "st-1"
    q = redirect_query(authorize(sim.url, code_challenge_method="plain"))
    assert q["error"] == "invalid_request"


def test_unknown_non_okta_scope_is_invalid_scope(sim):
    q = redirect_query(authorize(sim.url, scope="openid launch_missiles"))
    assert q["error"] == "invalid_scope"


def test_ungranted_okta_scopes_are_dropped_from_the_token(sim):
    _, q = sign_in(
        sim.url, scope="openid okta.apps.read okta.users.manage okta.groups.manage"
    )
    body = exchange_code(sim.url, q).json()
    assert body["scope"].split() == ["openid", "okta.apps.read"]
    assert "refresh_token" not in body  # no offline_access asked


def test_existing_session_skips_the_login_page(sim):
    s, _ = sign_in(sim.url)
    r = authorize(sim.url, session=s)
    assert r.status_code == 302
    assert "code=" in r.headers["Location"]


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_prompt_login_and_max_age_force_a_new_login(sim, extra):
    s, _ = sign_in(sim.url)
    r = authorize(sim.url, session=s, **extra)
    assert r.status_code == 200
    assert "okta-signin-password" in r.text


def test_max_age_counts_from_auth_time(sim):
    s, _ = sign_in(sim.url)
    assert authorize(sim.url, session=s, max_age="600").status_code == 302
    sim.advance_clock(601)
    assert authorize(sim.url, session=s, max_age="600").status_code == 200


def test_prompt_none_without_session_is_login_required(sim):
    q = redirect_query(authorize(sim.url, prompt="none"))
    assert q["error"] == "login_required"


def test_missing_state_is_refused(sim):
    q = redirect_query(authorize(sim.url, state=None))
    assert q["error"] == "invalid_request"


def test_step_up_with_2fa_acr_requires_the_code_and_sets_mfa_amr(sim):
    _s, q = sign_in(
        sim.url, extra={"acr_values": "urn:okta:loa:2fa:any"}, passcode="123456"
    )
    idt = decode(
        sim.url, exchange_code(sim.url, q).json()["id_token"], audience=CONSOLE_ID
    )
    assert idt["amr"] == ["pwd", "otp", "mfa"]
    assert idt["acr"] == "urn:okta:loa:2fa:any"
    page = authorize(sim.url, acr_values="urn:okta:loa:2fa:any")
    assert page.status_code == 200
    assert "(required)" in page.text


def test_refresh_token_issues_a_new_access_token(sim):
    _, q = sign_in(sim.url)
    first = exchange_code(sim.url, q).json()
    sim.advance_clock(3601)
    old = requests.get(
        f"{sim.url}/api/v1/apps", headers=bearer(first["access_token"]), timeout=5
    )
    assert old.status_code == 401
    assert 'error="invalid_token"' in old.headers["WWW-Authenticate"]
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "scope": first["scope"],
        },
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["access_token"] != first["access_token"]
    assert new["refresh_token"] == first["refresh_token"]
    ok = requests.get(
        f"{sim.url}/api/v1/apps", headers=bearer(new["access_token"]), timeout=5
    )
    assert ok.status_code == 200


def test_refresh_after_revoking_a_grant_drops_that_scope(sim):
    _, q = sign_in(sim.url)
    first = exchange_code(sim.url, q).json()
    sim.oob_revoke(CONSOLE_ID, "okta.appGrants.manage")
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=5,
    )
    assert "okta.appGrants.manage" not in r.json()["scope"].split()


def test_revoke_and_introspect(sim):
    _, q = sign_in(sim.url)
    tokens = exchange_code(sim.url, q).json()
    auth = (CONSOLE_ID, CONSOLE_SECRET)
    info = requests.post(
        f"{sim.url}/oauth2/v1/introspect",
        data={"token": tokens["access_token"]},
        auth=auth,
        timeout=5,
    ).json()
    assert info["active"] is True
    assert info["username"] == "super.admin@example.com"
    assert info["client_id"] == CONSOLE_ID
    r = requests.post(
        f"{sim.url}/oauth2/v1/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "access_token"},
        auth=auth,
        timeout=5,
    )
    assert r.status_code == 200
    assert r.content == b""
    info = requests.post(
        f"{sim.url}/oauth2/v1/introspect",
        data={"token": tokens["access_token"]},
        auth=auth,
        timeout=5,
    ).json()
    assert info == {"active": False}
    api = requests.get(
        f"{sim.url}/api/v1/apps", headers=bearer(tokens["access_token"]), timeout=5
    )
    assert api.status_code == 401
    requests.post(
        f"{sim.url}/oauth2/v1/revoke",
        data={"token": tokens["refresh_token"]},
        auth=auth,
        timeout=5,
    )
    again = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=auth,
        timeout=5,
    )
    assert again.json()["error"] == "invalid_grant"


def test_revoke_requires_client_auth(sim):
    r = requests.post(f"{sim.url}/oauth2/v1/revoke", data={"token": "x"}, timeout=5)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_logout_ends_the_session_and_redirects(sim):
    s, q = sign_in(sim.url)
    id_token = exchange_code(sim.url, q).json()["id_token"]
    r = s.get(
        f"{sim.url}/oauth2/v1/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://127.0.0.1:8000/",
            "state": "bye",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 302
    assert r.headers["Location"] == "http://127.0.0.1:8000/?state=bye"
    assert authorize(sim.url, session=s).status_code == 200  # login page again


def test_logout_refuses_unregistered_post_logout_uri(sim):
    _, q = sign_in(sim.url)
    id_token = exchange_code(sim.url, q).json()["id_token"]
    r = requests.get(
        f"{sim.url}/oauth2/v1/logout",
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "https://evil.example.com/",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 400


def test_user_demoted_after_sign_in_keeps_scopes_but_loses_access(sim):
    """Silent downscoping: the token still carries okta.appGrants.manage; Okta refuses."""
    _, q = sign_in(sim.url)
    token = exchange_code(sim.url, q).json()["access_token"]
    sim.set_roles("super.admin@example.com", ["READ_ONLY_ADMIN"])
    r = requests.post(
        f"{sim.url}/api/v1/apps/{CONSOLE_ID}/grants",
        headers=bearer(token),
        json={"issuer": sim.url, "scopeId": "okta.users.read"},
        timeout=5,
    )
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E0000006"
    assert (
        "okta.appGrants.manage"
        in jwt.decode(token, options={"verify_signature": False})["scp"]
    )


def test_inactive_apps_cannot_sign_in_or_get_tokens(sim):
    sim.oob_app("deactivate", app_id=CONSOLE_ID)
    r = authorize(sim.url)
    assert r.status_code == 400
    assert "Location" not in r.headers
    r = requests.post(
        f"{sim.url}/oauth2/v1/token",
        data={"grant_type": "refresh_token", "refresh_token": "x"},
        auth=(CONSOLE_ID, CONSOLE_SECRET),
        timeout=5,
    )
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


def test_login_hint_prefills_the_username(sim):
    r = authorize(sim.url, login_hint='org.admin@example.com"><b>')
    assert 'value="org.admin@example.com&quot;&gt;&lt;b&gt;"' in r.text


def _id_token_claims(sim, login: str, scopes: list[str], **app) -> dict:
    answer = sim.token(login=login, scopes=scopes, **app)
    return jwt.decode(answer["id_token"], options={"verify_signature": False})


def test_groups_claim_follows_the_groups_scope_and_the_apps_filter(sim):
    """Okta's Org AS: a ``groups`` claim only in the ID token, only when the
    ``groups`` scope is asked for, filtered by the app's groups claim filter
    (the demo console app's is ``.*``: every group)."""
    sim.set_groups("readonly.admin@example.com", ["Grant Auditors", "IT"])
    with_scope = _id_token_claims(
        sim, "readonly.admin@example.com", ["openid", "groups"]
    )
    assert with_scope["groups"] == ["Everyone", "Grant Auditors", "IT"]
    without = _id_token_claims(sim, "readonly.admin@example.com", ["openid"])
    assert "groups" not in without
    access = sim.token(login="readonly.admin@example.com", scopes=["openid", "groups"])
    assert "groups" not in jwt.decode(
        access["access_token"], options={"verify_signature": False}
    )
    # an app without a groups claim filter (Okta's default) sends no claim
    other = _id_token_claims(
        sim,
        "readonly.admin@example.com",
        ["openid", "groups"],
        client_id="0oa1workerDEMO0000x7",
    )
    assert "groups" not in other
