"""Okta's official Python SDK (``okta``, pinned in requirements-dev.txt) runs
unchanged against the simulator, as it does against live orgs: paging through the
apps with its ``PaginationHelper`` and a grant's whole life, with an SSWS API token
and as a service app (``PrivateKey``: ``client_credentials`` + ``private_key_jwt``).

The only configuration beyond a live org's is the SDK's own switch for an ``http://``
org URL (``testing.testingDisableHttpsCheck``). The SDK's async calls run under
``asyncio.run`` against the session's simulator on loopback.
"""

from __future__ import annotations

import asyncio
import math
from concurrent.futures import ThreadPoolExecutor

import pytest
from okta.client import Client
from okta.models import OAuth2ScopeConsentGrant, OpenIdConnectApplication
from okta.pagination import PaginationHelper

from grantsconsole.oktasim import seed as demo

from .conftest import SSWS_TOKEN, WORKER_ID, app_by_label

PAGE = 7  # several pages over the demo org's apps
TARGET = "Expense Reports"  # a demo OIDC app with an empty grant collection
HOLDER = "Security Dashboard"  # a demo OIDC app holding several grants
SCOPE = "okta.users.read"
WORKER_SCOPES = ["okta.apps.read", "okta.appGrants.read", "okta.appGrants.manage"]


@pytest.fixture
def sdk_env(monkeypatch, tmp_path):
    """The SDK's environment: its https check off, no proxy, no stray okta.yaml."""
    # The SDK reads its "testing" section only from okta.yaml or OKTA_TESTING_*
    # variables (a dict given to Client() lands under "client"); this variable is
    # its documented environment form of okta.testing.testingDisableHttpsCheck.
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")
    # It sends every call through HTTP(S)_PROXY when set; the simulator is local.
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.chdir(tmp_path)  # it also reads ./okta.yaml


def sdk_config(sim, mode: str) -> dict:
    if mode == "SSWS":
        return {"orgUrl": sim.url, "authorizationMode": "SSWS", "token": SSWS_TOKEN}
    return {
        "orgUrl": sim.url,
        "authorizationMode": "PrivateKey",
        "clientId": WORKER_ID,
        "scopes": WORKER_SCOPES,
        "privateKey": demo.WORKER_KEY_FILE.read_text(),
    }


def grants_of(sim, label: str) -> list[dict]:
    return app_by_label(sim, label)["grants"]


@pytest.mark.parametrize("mode", ["SSWS", "PrivateKey"])
def test_official_sdk_lists_apps_and_grants_and_revokes(sim, sdk_env, mode):
    worker = next(a for a in sim.state()["apps"] if a["client_id"] == WORKER_ID)
    if mode == "PrivateKey":
        # The demo worker only reads; a Super Admin grants it the write scope.
        sim.oob_grant(worker["id"], "okta.appGrants.manage")
        creator = {"id": WORKER_ID, "type": "Client"}
    else:
        super_admin = next(
            u for u in sim.state()["users"] if u["login"] == "super.admin@example.com"
        )
        creator = {"id": super_admin["id"], "type": "User"}
    apps = sim.state()["apps"]
    target = app_by_label(sim, TARGET)["id"]
    holder = app_by_label(sim, HOLDER)
    assert grants_of(sim, TARGET) == []
    assert len(holder["grants"]) > 1

    async def run() -> None:
        async with Client(sdk_config(sim, mode)) as client:
            # Every app once, page by page, following the Link header.
            listed, pages, after = [], 0, None
            while True:
                page, resp, err = await client.list_applications(
                    limit=PAGE, after=after
                )
                assert err is None, err
                pages += 1
                listed += [getattr(a, "actual_instance", a) for a in page]
                after = PaginationHelper.extract_next_cursor(resp.headers)
                if not after:
                    break
            assert pages == math.ceil(len(apps) / PAGE) > 2
            assert [a.id for a in listed] == [a["id"] for a in apps]
            oidc = [a.id for a in listed if isinstance(a, OpenIdConnectApplication)]
            assert oidc == [
                a["id"] for a in apps if a["sign_on_mode"] == "OPENID_CONNECT"
            ]

            held, _, err = await client.list_scope_consent_grants(holder["id"])
            assert err is None, err
            assert [(g.id, g.scope_id) for g in held] == [
                (g["id"], g["scopeId"]) for g in holder["grants"]
            ]

            body = OAuth2ScopeConsentGrant(issuer=sim.url, scope_id=SCOPE)
            data, resp, err = await client.grant_consent_to_scope(target, body)
            # Okta answers 200 where the spec says 201, and the SDK maps a model
            # only to 201: against a live org too, the grant is in the raw body.
            assert err is None, err
            assert resp.status_code == 200
            assert data is None
            grant = OAuth2ScopeConsentGrant.from_json(resp.raw_data)
            assert grant.scope_id == SCOPE
            assert grant.issuer == sim.url
            assert [
                (g["id"], g["scopeId"], g["createdBy"]) for g in grants_of(sim, TARGET)
            ] == [(grant.id, SCOPE, creator)]

            got, _, err = await client.get_scope_consent_grant(target, grant.id)
            assert err is None, err
            assert (got.id, got.scope_id) == (grant.id, SCOPE)
            listed_grants, _, err = await client.list_scope_consent_grants(target)
            assert err is None, err
            assert [g.id for g in listed_grants] == [grant.id]

            _, resp, err = await client.revoke_scope_consent_grant(target, grant.id)
            assert err is None, err
            assert resp.status_code == 204
            assert grants_of(sim, TARGET) == []
            _, _, err = await client.get_scope_consent_grant(target, grant.id)
            assert err is not None
            assert err.status == 404

    # In its own thread: a browser test run earlier in the same xdist worker can
    # leave Playwright's event loop running in this thread, and asyncio.run
    # refuses to start inside a running loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()
    # Only the SDK's own calls reached the org, each answered without an error.
    calls = [r for r in sim.requests() if r["path"].startswith(("/api/", "/oauth2/"))]
    assert [r["status"] for r in calls if r["status"] >= 400] == [404]


@pytest.mark.parametrize("mode", ["SSWS", "PrivateKey"])
def test_official_sdk_gets_a_user_by_id_and_login(sim, sdk_env, mode):
    """``getUser``, as the worker uses it to name the people behind user ids
    (the demo worker holds ``okta.users.read``)."""
    user = next(
        u for u in sim.state()["users"] if u["login"] == "readonly.admin@example.com"
    )
    config = sdk_config(sim, mode)
    if mode == "PrivateKey":
        config["scopes"] = ["okta.users.read"]

    async def run() -> None:
        async with Client(config) as client:
            for key in (user["id"], user["login"]):
                got, resp, err = await client.get_user(key)
                assert err is None, err
                assert resp.status_code == 200
                assert got.id == user["id"]
                assert got.profile.login == user["login"]
                assert got.profile.email == user["login"]
                assert (
                    f"{got.profile.first_name} {got.profile.last_name}"
                    == (user["display_name"])
                )
                assert got.status == "ACTIVE"
            _, _, err = await client.get_user("00u1doesnotexist0000")
            assert err is not None
            assert err.status == 404

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.mark.parametrize("mode", ["SSWS", "PrivateKey"])
def test_official_sdk_lists_api_service_integrations_and_their_secrets(
    sim, sdk_env, mode
):
    """``listApiServiceIntegrationInstances`` and
    ``listApiServiceIntegrationInstanceSecrets`` (the demo worker holds
    ``okta.oauthIntegrations.read``)."""
    config = sdk_config(sim, mode)
    if mode == "PrivateKey":
        config["scopes"] = ["okta.oauthIntegrations.read"]

    async def run() -> None:
        async with Client(config) as client:
            found, resp, err = await client.list_api_service_integration_instances()
            assert err is None, err
            assert resp.status_code == 200
            by_name = {s.name: s for s in found}
            acme = by_name["Acme Log Streaming"]
            assert acme.granted_scopes == ["okta.logs.read", "okta.users.read"]
            (
                secrets,
                _,
                err,
            ) = await client.list_api_service_integration_instance_secrets(acme.id)
            assert err is None, err
            assert [s.status for s in secrets] == ["INACTIVE", "ACTIVE"]

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.mark.parametrize("mode", ["SSWS", "PrivateKey"])
def test_official_sdk_reads_a_service_apps_role_targets(sim, sdk_env, ssws, mode):
    """``listGroupTargetRoleForClient`` and ``listAppTargetRoleToClient``, as the
    full sync reads what a service app's admin role reaches. (The SDK's own
    ``list_roles_for_client`` cannot parse any role: both of its ``oneOf``
    schemas, StandardRole and CustomRole, require only ``type``, so every role
    matches both and it raises "Multiple matches"; the role id comes over HTTP.)
    """

    def role_id(label: str) -> tuple[str, str]:
        client_id = app_by_label(sim, label)["client_id"]
        r = ssws.get(f"{sim.url}/oauth2/v1/clients/{client_id}/roles")
        return client_id, r.json()[0]["id"]

    by_groups, by_apps = role_id("Nightly User Sync"), role_id("Terraform Automation")
    config = sdk_config(sim, mode)
    if mode == "PrivateKey":
        config["scopes"] = ["okta.roles.read"]

    async def run() -> None:
        async with Client(config) as client:
            groups, resp, err = await client.list_group_target_role_for_client(
                *by_groups
            )
            assert err is None, err
            assert resp.status_code == 200
            assert [g.profile.actual_instance.name for g in groups] == [
                "Contractors",
                "Field Staff",
            ]
            apps, _, err = await client.list_app_target_role_to_client(*by_apps)
            assert err is None, err
            assert [a.name for a in apps] == ["salesforce", "oidc_client"]

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_official_sdk_lists_and_revokes_an_apps_refresh_tokens(sim, sdk_env):
    """``listOAuth2TokensForApplication`` and ``revokeOAuth2TokensForApplication``
    on the demo web app seeded with refresh tokens."""
    app_id = app_by_label(sim, "Legacy CRM")["id"]

    async def run() -> None:
        async with Client(sdk_config(sim, "SSWS")) as client:
            tokens, resp, err = await client.list_o_auth2_tokens_for_application(
                app_id, limit=2
            )
            assert err is None, err
            assert len(tokens) == 2
            assert all("offline_access" in t.scopes for t in tokens)
            after = PaginationHelper.extract_next_cursor(resp.headers)
            rest, _, err = await client.list_o_auth2_tokens_for_application(
                app_id, limit=2, after=after
            )
            assert err is None, err
            assert len(rest) == 1
            _, resp, err = await client.revoke_o_auth2_tokens_for_application(app_id)
            assert err is None, err
            assert resp.status_code == 204
            left, _, err = await client.list_o_auth2_tokens_for_application(app_id)
            assert err is None, err
            assert left == []

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_official_sdk_reads_client_credentials_and_the_org_setting(sim, sdk_env):
    """``listOAuth2ClientSecrets``, ``listJwk`` and
    ``getClientPrivilegesSetting``, as the console's compensating controls read
    them."""
    crm = app_by_label(sim, "Legacy CRM")["id"]
    bot = app_by_label(sim, "Provisioning Bot")["id"]

    async def run() -> None:
        async with Client(sdk_config(sim, "SSWS")) as client:
            secrets, _, err = await client.list_o_auth2_client_secrets(crm)
            assert err is None, err
            assert [s.status for s in secrets] == ["ACTIVE"]
            assert secrets[0].id.startswith("ocs")
            assert secrets[0].created
            keys, _, err = await client.list_jwk(bot)
            assert err is None, err
            (key,) = [getattr(k, "actual_instance", k) for k in keys]
            assert key.id.startswith("pks")
            assert key.created
            setting, _, err = await client.get_client_privileges_setting()
            assert err is None, err
            assert setting.client_privileges_setting is True

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, run()).result()
