"""The real sign-in over HTTP against the simulator, for every demo user.

Only the Super Admin gets in; everyone else gets a page saying why, an
``authz_denied`` audit row, nothing stored, and their fresh tokens revoked.
"""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib.auth import get_user_model
from django.db import connection

from grantsconsole.accounts import session as sess
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTED = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "okta.apps.read",
    "okta.appGrants.read",
    "okta.appGrants.manage",
    "okta.apps.manage",
    "okta.roles.read",
    "okta.oauthIntegrations.manage",  # removing API service integrations
}


def test_authorize_request_uses_pkce_state_nonce_and_the_org_as(sim) -> None:
    client = flow.console_client()
    url = flow.start(client)
    assert url.startswith(f"{sim.url}/oauth2/v1/authorize?")
    q = flow.query(url)
    assert q["response_type"] == "code"
    assert q["client_id"] == "0oa1consoleDEMO000x7"
    assert q["redirect_uri"] == f"http://{flow.HOST}{flow.CALLBACK_PATH}"
    assert q["code_challenge_method"] == "S256"
    assert len(q["code_challenge"]) >= 43
    assert len(q["state"]) >= 16
    assert len(q["nonce"]) >= 32
    assert set(q["scope"].split()) == REQUESTED
    # a second sign-in gets a fresh state and nonce
    q2 = flow.query(flow.start(client))
    assert q2["state"] != q["state"]
    assert q2["nonce"] != q["nonce"]


def test_sign_in_button_is_a_post(sim) -> None:
    client = flow.console_client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'method="post"' in page.content
    assert flow.LOGIN_PATH.encode() in page.content
    # a GET on the provider URL does not start a sign-in
    assert client.get(flow.LOGIN_PATH).status_code == 200


def test_super_admin_gets_in_with_tokens_encrypted_server_side(sim) -> None:
    client = flow.console_client()
    authorize = flow.start(client)
    key_before = client.session.session_key
    response = flow.finish(client, flow.okta_login(authorize, flow.SUPER))
    assert response.status_code == 302, response.content[:800]
    assert response["Location"] == "/"

    # new session key on login; the session points at the stored credential
    assert client.session.session_key != key_before
    cred = OktaCredential.objects.get()
    assert client.session[sess.CREDENTIAL] == str(cred.pk)
    user_id = next(u["id"] for u in sim.state()["users"] if u["login"] == flow.SUPER)
    assert cred.okta_user_id == user_id
    assert cred.login == flow.SUPER
    assert set(cred.scopes.split()) >= REQUESTED - {"openid", "profile", "email"} - {
        "offline_access"
    }

    # tokens are encrypted at rest; allauth stored none
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_enc, refresh_token_enc, id_token_enc "
            "FROM accounts_oktacredential"
        )
        row = cursor.fetchone()
    assert cred.access_token
    assert cred.refresh_token
    assert cred.id_token
    for plaintext, stored in zip(
        (cred.access_token, cred.refresh_token, cred.id_token), row, strict=True
    ):
        assert plaintext not in stored
    assert not SocialToken.objects.exists()
    assert cred.access_token not in repr(cred)
    assert cred.access_token not in str(cred)

    # the role was checked with the admin's own token
    roles_calls = [
        r for r in sim.requests() if r["path"] == f"/api/v1/users/{user_id}/roles"
    ]
    assert len(roles_calls) == 1
    assert roles_calls[0]["status"] == 200

    event = AuditEvent.objects.get(action="sign_in")
    assert event.outcome == "success"
    assert event.actor_login == flow.SUPER
    assert cred.access_token not in str(event.detail)

    # a protected page now works
    assert client.get("/health/console/").status_code == 200


@pytest.mark.parametrize(
    ("login", "reason", "roles"),
    [
        (flow.ORG_ADMIN, "not_super_admin", ["ORG_ADMIN"]),
        (flow.APP_ADMIN, "not_super_admin", ["APP_ADMIN"]),
        (flow.END_USER, "no_admin_role", []),
    ],
)
def test_everyone_else_is_refused_and_nothing_is_stored(
    sim, login: str, reason: str, roles: list[str]
) -> None:
    client = flow.console_client()
    response = flow.sign_in(client, login)
    assert response.status_code == 403
    assert f'data-reason="{reason}"'.encode() in response.content
    for role in roles:
        assert role.encode() in response.content
    assert "_auth_user_id" not in client.session
    assert not get_user_model().objects.exists()
    assert not SocialAccount.objects.exists()
    assert not OktaCredential.objects.exists()
    event = AuditEvent.objects.get(action="authz_denied")
    assert event.outcome == "denied"
    assert event.actor_login == login
    assert event.detail["reason"] == reason
    # the fresh tokens were revoked at Okta
    revokes = [r for r in sim.requests() if r["path"] == "/oauth2/v1/revoke"]
    assert len(revokes) == 2
    assert all(r["status"] == 200 for r in revokes)
    assert client.get("/health/console/").status_code == 302


def test_read_only_admin_signs_in_as_an_auditor_and_cannot_write(sim) -> None:
    """Silent downscoping: the Read-Only Admin's token carries
    okta.appGrants.manage; the role check lets them in as an auditor only, and
    a write is refused on the server before any call to Okta's grant API."""
    client = flow.console_client()
    response = flow.sign_in(client, flow.READ_ONLY)
    assert response.status_code == 302
    cred = OktaCredential.objects.get()
    assert cred.access == "auditor"
    assert "okta.appGrants.manage" in cred.scope_set
    assert AuditEvent.objects.get(action="sign_in").detail["access"] == "auditor"
    assert client.get("/").url == "/audit/"
    app_id = next(
        a["id"] for a in sim.state()["apps"] if a["label"] == "Payroll Portal"
    )
    before = len(sim.requests())
    refused = client.post(f"/apps/{app_id}/grants/grant", {"only": "okta.brands.read"})
    assert refused.status_code == 403
    assert b'data-reason="auditor"' in refused.content
    assert not [
        r for r in sim.requests()[before:] if "/grants" in r["path"]
    ]  # only the fresh roles read reached Okta
    event = AuditEvent.objects.get(action="authz_denied")
    assert event.actor_login == flow.READ_ONLY
    assert event.detail["during"] == "POST"
    assert OktaCredential.objects.exists()  # still signed in for the audit
    assert client.get("/audit/").status_code == 200


def test_console_app_without_roles_read_grant_is_explained(sim) -> None:
    sim.oob_revoke("0oa1consoleDEMO000x7", "okta.roles.read")
    client = flow.console_client()
    response = flow.sign_in(client, flow.SUPER)
    assert response.status_code == 403
    assert b'data-reason="missing_scope"' in response.content
    assert b"okta.roles.read" in response.content
    assert not OktaCredential.objects.exists()
    event = AuditEvent.objects.get(action="authz_denied")
    assert event.detail["missing_scope"] == "okta.roles.read"


def test_a_member_of_the_auditor_group_signs_in_as_an_auditor(sim, settings) -> None:
    """ACCOUNTS_AUDITOR_GROUP: the sign-in asks for the groups scope and an App
    Admin (no auditor role) in that Okta group gets in as an auditor; out of
    the group, the same admin is refused."""
    settings.ACCOUNTS_AUDITOR_GROUP = "Grant Auditors"
    client = flow.console_client()
    authorize = flow.start(client)
    assert "groups" in flow.query(authorize)["scope"].split()
    refused = flow.finish(client, flow.okta_login(authorize, flow.APP_ADMIN))
    assert refused.status_code == 403
    assert b'data-reason="not_super_admin"' in refused.content
    assert b"Grant Auditors" in refused.content  # the page says who auditors are

    sim.set_groups(flow.APP_ADMIN, ["Grant Auditors"])
    client = flow.console_client()
    assert flow.sign_in(client, flow.APP_ADMIN).status_code == 302
    cred = OktaCredential.objects.get()
    assert cred.access == "auditor"
    assert "Grant Auditors" in cred.groups
    assert client.get("/audit/").status_code == 200
    assert client.get("/apps/").status_code == 403
