"""Sign-in with Okta's Org Authorization Server through allauth's OpenID Connect
provider (``provider_id`` "okta"), hardened where allauth 65.22.1 is not:

* authorization code + PKCE S256 always (not only when configured);
* a ``nonce`` is sent and kept with the ``state``; the ID token is validated
  in full (signature included) by :mod:`grantsconsole.accounts.idtoken`;
* request parameters cannot add scopes or authorize parameters, except
  ``prompt=login`` ("Sign in with another account");
* ``max_age`` for step-up re-authentication, checked against ``auth_time``;
* the admin's role is looked up with the fresh token before anything is stored
  (:mod:`grantsconsole.accounts.roles`); anyone neither a Super Admin nor an
  auditor gets a page saying why;
* the tokens reach storage on allauth's own channels: the access and refresh
  tokens and their expiry in ``sociallogin.token`` (allauth's SocialToken), the
  verified claims and userinfo in ``sociallogin.account.extra_data``, the raw
  ID token, the granted scopes and the access level (SocialToken has no field
  for them) in
  ``sociallogin.state``; :func:`sign_in_tokens` reads them back for the
  account adapter's ``post_login`` hook.

The server URL is ``settings.OKTA_ORG_URL`` (issuer = org URL, endpoints under
``/oauth2/v1/``), read at request time; the same path serves the simulator over
http and a real org over https. Callback: ``/accounts/oidc/okta/login/callback/``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp, SocialToken
from allauth.socialaccount.providers.base import AuthProcess
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.utils import generate_code_challenge
from allauth.socialaccount.providers.oauth2.views import (
    OAuth2CallbackView,
    OAuth2LoginView,
)
from allauth.socialaccount.providers.openid_connect.provider import (
    OpenIDConnectProvider,
)
from allauth.socialaccount.providers.openid_connect.views import (
    OpenIDConnectOAuth2Adapter,
)
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from requests import RequestException

from grantsconsole import okta_clients
from grantsconsole.accounts import auditing, custody, idtoken, roles
from grantsconsole.accounts.refusals import SignInRefused, classify, refusal_response

logger = logging.getLogger("grantsconsole.accounts")

PROVIDER_ID = "okta"
# Keys of sociallogin.state for what allauth's SocialToken has no field for.
ID_TOKEN = "okta_id_token"
SCOPE = "okta_scope"
ACCESS = "okta_access"  # "super_admin" or "auditor" (roles.check_access)


class OktaOrgProvider(OpenIDConnectProvider):
    """allauth's OIDC provider pinned to the Org Authorization Server."""

    @property
    def server_url(self) -> str:
        return self.wk_server_url(settings.OKTA_ORG_URL)

    def get_oauth2_adapter(self, request: HttpRequest) -> OktaOrgOAuth2Adapter:
        return OktaOrgOAuth2Adapter(request)

    def get_pkce_params(self) -> dict:
        return generate_code_challenge()  # always S256

    def get_auth_params_from_request(self, request: HttpRequest, action: Any) -> dict:
        return self.get_auth_params()  # no ?auth_params= from the browser

    def get_scope_from_request(self, request: HttpRequest) -> list[str]:
        return self.get_scope()  # no ?scope= from the browser

    def get_scope(self) -> list[str]:
        """The configured scopes, plus ``groups`` when auditors are known by an
        Okta group: the Org AS then puts the ``groups`` claim (the app's groups
        claim filter) in the ID token."""
        scope = list(super().get_scope())
        if settings.ACCOUNTS_AUDITOR_GROUP and "groups" not in scope:
            scope.append("groups")
        return scope

    def get_redirect_from_request_kwargs(self, request: HttpRequest) -> dict:
        kwargs = super().get_redirect_from_request_kwargs(request)
        kwargs["process"] = AuthProcess.LOGIN  # no connect/redirect processes
        # "Sign in with another account": the one prompt the browser may ask for.
        if request.POST.get("prompt") == "login":
            kwargs["prompt"] = "login"
        return kwargs

    def redirect(
        self,
        request: HttpRequest,
        process: Any,
        next_url: str | None = None,
        data: Any = None,
        *,
        max_age: int | None = None,
        acr_values: str = "",
        step_up: dict[str, Any] | None = None,
        prompt: str = "",
        **kwargs: Any,
    ) -> HttpResponse:
        """302 to ``/oauth2/v1/authorize`` with PKCE, ``state`` and ``nonce``.

        ``prompt="login"`` makes Okta show its sign-in form even over an Okta
        session, so someone else can sign in (switching accounts);
        ``max_age`` (seconds) asks Okta to re-authenticate an older session;
        ``acr_values`` (e.g. ``urn:okta:loa:2fa:any``) asks for MFA, and the
        callback then requires ``mfa`` in the ID token's ``amr`` (Okta ignores
        unsupported values silently); ``step_up`` (JSON-able) travels in the
        stashed state to the callback.
        """
        nonce = secrets.token_urlsafe(32)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        if max_age is not None:
            auth_params["max_age"] = str(int(max_age))
        if acr_values:
            auth_params["acr_values"] = acr_values
        if prompt:
            auth_params["prompt"] = prompt
        return super().redirect(
            request,
            process,
            next_url,
            data,
            auth_params=auth_params,
            nonce=nonce,
            max_age=max_age,
            acr_values=acr_values,
            step_up=step_up,
            **kwargs,
        )


def get_provider(request: HttpRequest) -> OktaOrgProvider:
    """The configured Okta provider. Raises SocialApp.DoesNotExist if unset."""
    app = get_adapter(request).get_app(request, provider=PROVIDER_ID)
    return OktaOrgProvider(request, app=app)


class OktaOrgOAuth2Adapter(OpenIDConnectOAuth2Adapter):
    """Token exchange and login completion with full ID-token validation and the
    role check (Super Admin or auditor) before anything is stored."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request, PROVIDER_ID)
        self.okta_state: dict[str, Any] | None = None

    def get_provider(self) -> OktaOrgProvider:
        return get_provider(self.request)

    @property
    def openid_config(self) -> dict[str, Any]:
        config = super().openid_config
        if config.get("issuer") != settings.OKTA_ORG_URL:
            raise SignInRefused(
                "wrong_issuer",
                "The org's discovery document names another issuer than OKTA_ORG_URL.",
            )
        return config

    def complete_login(
        self, request: HttpRequest, app: SocialApp, token: SocialToken, **kwargs: Any
    ) -> Any:
        response: dict[str, Any] = kwargs["response"]
        state = self.okta_state if self.okta_state is not None else {}
        try:
            claims = idtoken.validate_id_token(
                str(response.get("id_token") or ""),
                jwks_uri=self.openid_config["jwks_uri"],
                issuer=settings.OKTA_ORG_URL,
                client_id=app.client_id,
                nonce=str(state.get("nonce") or ""),
                max_age=state.get("max_age"),
            )
        except idtoken.IdTokenInvalid as exc:
            raise SignInRefused(exc.reason, str(exc)) from None
        if state.get("acr_values") and "mfa" not in (claims.get("amr") or []):
            raise SignInRefused(
                "mfa_missing", "Okta did not report a multi-factor authentication."
            )
        userinfo = self._fetch_user_info(token.token)
        if str(userinfo.get("sub")) != str(claims["sub"]):
            raise SignInRefused(
                "userinfo_mismatch",
                "Okta's userinfo names another user than the ID token.",
            )
        expires_at = token.expires_at or (timezone.now() + timedelta(hours=1))
        # allauth hands this token on as sociallogin.token
        token.expires_at = expires_at
        tokens = custody.SignInTokens(
            access_token=token.token,
            refresh_token=token.token_secret or "",
            id_token=str(response["id_token"]),
            expires_at=expires_at,
            scope=str(response.get("scope") or ""),
            claims=claims,
            userinfo=userinfo,
        )
        decision = roles.check_access(
            okta_clients.sign_in_client(tokens),
            tokens.okta_user_id,
            tokens.groups,
        )
        if not decision.allowed:
            auditing.record(
                request,
                "authz_denied",
                outcome="denied",
                actor_id=tokens.okta_user_id,
                actor_login=tokens.login,
                okta_request_id=decision.okta_request_id,
                detail={
                    "during": "sign_in",
                    "token_scopes": tokens.scope,
                    **decision.audit_detail(),
                },
            )
            # Nothing is stored; the fresh tokens are revoked at once.
            custody.revoke_token(tokens.refresh_token, "refresh_token")
            custody.revoke_token(tokens.access_token, "access_token")
            raise ImmediateHttpResponse(
                render(
                    request,
                    "accounts/denied.html",
                    {"decision": decision, "login": tokens.login},
                    status=503 if decision.transient else 403,
                )
            )
        login = self.get_provider().sociallogin_from_response(
            request, {"userinfo": userinfo, "id_token": claims}
        )
        # allauth makes this same dict sociallogin.state (see OktaCallbackView).
        state[ID_TOKEN] = tokens.id_token
        state[SCOPE] = tokens.scope
        state[ACCESS] = decision.reason
        return login


class OktaCallbackView(OAuth2CallbackView):
    """allauth's callback view, handing the unstashed state (nonce, max_age,
    step-up) to the adapter. Overrides allauth's private ``_get_state``, pinned
    by tests/accounts/test_allauth_pins.py: allauth passes the dict it returns
    to ``complete_login``'s login as ``sociallogin.state``."""

    def _get_state(self, request: HttpRequest, provider: Any) -> Any:
        state, resp = super()._get_state(request, provider)
        self.adapter.okta_state = state  # type: ignore[attr-defined]
        return state, resp


def sign_in_tokens(sociallogin: Any) -> custody.SignInTokens | None:
    """The tokens and verified claims of an Okta sign-in that passed the Super
    Admin check, read from where :class:`OktaOrgOAuth2Adapter` left them; None
    for any other login (another provider, a sign-in the check refused)."""
    state = getattr(sociallogin, "state", None) or {}
    token = getattr(sociallogin, "token", None)
    account = getattr(sociallogin, "account", None)
    if (
        ID_TOKEN not in state
        or token is None
        or account is None
        or account.provider != PROVIDER_ID
    ):
        return None
    return custody.SignInTokens(
        access_token=token.token,
        refresh_token=token.token_secret or "",
        id_token=str(state[ID_TOKEN]),
        expires_at=token.expires_at,
        scope=str(state.get(SCOPE) or ""),
        claims=account.extra_data["id_token"],
        userinfo=account.extra_data["userinfo"],
    )


@login_not_required
def login(request: HttpRequest) -> HttpResponse:
    """``/accounts/oidc/okta/login/``: POST starts the sign-in (GET shows a
    confirmation form, allauth's ``SOCIALACCOUNT_LOGIN_ON_GET = False``)."""
    try:
        return OAuth2LoginView.adapter_view(OktaOrgOAuth2Adapter(request))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except (OAuth2Error, RequestException) as exc:  # discovery failed or mismatched
        return refusal_response(request, classify(request, exception=exc))


@login_not_required
def callback(request: HttpRequest) -> HttpResponse:
    """``/accounts/oidc/okta/login/callback/``: Okta redirects here."""
    try:
        return OktaCallbackView.adapter_view(OktaOrgOAuth2Adapter(request))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except (OAuth2Error, RequestException) as exc:  # discovery failed or mismatched
        return refusal_response(request, classify(request, exception=exc))


def step_up_redirect(
    request: HttpRequest,
    *,
    max_age: int,
    next_url: str,
    step_up: dict[str, Any],
    acr_values: str = "",
) -> HttpResponse:
    """Send the signed-in admin through Okta again with ``max_age`` (and
    ``acr_values`` when MFA is required)."""
    return get_provider(request).redirect(
        request,
        AuthProcess.LOGIN,
        next_url=next_url,
        max_age=max_age,
        acr_values=acr_values,
        step_up=step_up,
    )
