"""What the sign-in takes from allauth 65.22.1 beyond its public hooks, pinned so
an allauth upgrade that changes it fails here rather than in production, and the
token hand-off that runs through allauth's adapter hooks alone."""

from __future__ import annotations

import inspect

import pytest
from allauth.account import signals as allauth_signals
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.views import (
    OpenIDConnectOAuth2Adapter,
)

from grantsconsole.accounts import session as sess
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow


def test_the_callback_state_allauth_unstashes_becomes_sociallogin_state():
    """OktaCallbackView overrides the private ``OAuth2CallbackView._get_state``
    to hand the unstashed state to the adapter, and complete_login writes the
    ID token and scope into that dict for the adapter hook, relying on allauth
    to make the same dict ``sociallogin.state``."""
    params = list(inspect.signature(OAuth2CallbackView._get_state).parameters)
    assert params == ["self", "request", "provider"]
    dispatch = inspect.getsource(OAuth2CallbackView.dispatch)
    assert "state, resp = self._get_state(request, provider)" in dispatch
    assert "login = self.adapter.complete_login(" in dispatch
    assert "login.state = state" in dispatch


def test_the_private_userinfo_fetch_the_sign_in_calls_still_exists():
    params = list(
        inspect.signature(OpenIDConnectOAuth2Adapter._fetch_user_info).parameters
    )
    assert params == ["self", "access_token"]


@pytest.mark.django_db(transaction=True)
def test_sign_in_stores_the_tokens_without_any_login_signal_receiver(sim, okta_browser):
    """The tokens reach storage through the account adapter's ``post_login``,
    not through a receiver of allauth's ``user_logged_in``."""
    signal = allauth_signals.user_logged_in
    saved = signal.receivers
    signal.receivers = []
    signal.sender_receivers_cache.clear()
    try:
        client = flow.console_client()
        response = flow.sign_in(client, flow.SUPER, browser=okta_browser)
    finally:
        signal.receivers = saved
        signal.sender_receivers_cache.clear()
    assert response.status_code == 302, response.content[:500]
    cred = OktaCredential.objects.get()
    assert client.session[sess.CREDENTIAL] == str(cred.pk)
    assert all((cred.access_token, cred.refresh_token, cred.id_token))
    assert "okta.appGrants.manage" in cred.scopes.split()
    assert AuditEvent.objects.filter(action="sign_in", outcome="success").exists()
    # Nothing secret reached allauth's own (unencrypted) tables.
    extra = str(SocialAccount.objects.get().extra_data)
    assert cred.access_token not in extra
    assert cred.id_token not in extra


def test_a_login_restored_from_the_session_cannot_sign_up(rf):
    """allauth's sign-up form restores a stashed login, state and tokens
    included; only Okta's callback (after the role check) may sign up."""
    from allauth.socialaccount.models import SocialLogin, SocialToken
    from django.urls import resolve
    from django.utils import timezone

    from grantsconsole.accounts import oidc
    from grantsconsole.accounts.adapter import SocialAccountAdapter

    account = SocialAccount(
        provider=oidc.PROVIDER_ID,
        uid="00u1",
        extra_data={"id_token": {"sub": "00u1"}, "userinfo": {"sub": "00u1"}},
    )
    token = SocialToken(
        account=account, token="at", token_secret="rt", expires_at=timezone.now()
    )
    login = SocialLogin(account=account, token=token)
    login.state = {oidc.ID_TOKEN: "idt", oidc.SCOPE: "openid"}
    adapter = SocialAccountAdapter()

    form = rf.get("/accounts/3rdparty/signup/")
    form.resolver_match = resolve("/accounts/3rdparty/signup/")
    assert not adapter.is_open_for_signup(form, login)

    callback = rf.get("/accounts/oidc/okta/login/callback/")
    callback.resolver_match = resolve("/accounts/oidc/okta/login/callback/")
    assert adapter.is_open_for_signup(callback, login)
    assert not adapter.is_open_for_signup(callback, SocialLogin())
