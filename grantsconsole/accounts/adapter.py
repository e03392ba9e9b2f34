"""allauth adapters: refuse local sign-up, store the tokens of an admin's
Okta sign-in, turn every failed callback into a clear page plus an audit row
(:mod:`grantsconsole.accounts.refusals`)."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from grantsconsole.accounts import auditing, custody, oidc, session
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.accounts.refusals import classify, refusal_response
from grantsconsole.grants.services import people


class AccountAdapter(DefaultAccountAdapter):
    """No local accounts: people sign in through Okta only."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def post_login(
        self, request: HttpRequest, user: Any, **kwargs: Any
    ) -> HttpResponse:
        """After an Okta sign-in that passed the role check (Django has
        logged the user in and rotated the session key): encrypt and store the
        tokens, bind them to this session, restore a pending step-up action,
        audit the sign-in. Then allauth's own ``post_login``."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        tokens = oidc.sign_in_tokens(sociallogin)
        if tokens is not None:
            _store_sign_in(request, user, tokens, sociallogin.state)
        return super().post_login(request, user, **kwargs)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Sign-up happens implicitly on an admin's first Okta sign-in."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        """Only inside Okta's callback, after the role check passed; never
        on allauth's sign-up form, which restores a login stashed in the session
        (its state included)."""
        match = getattr(request, "resolver_match", None)
        return (
            match is not None
            and match.func is oidc.callback
            and oidc.sign_in_tokens(sociallogin) is not None
        )

    def save_user(
        self, request: HttpRequest, sociallogin: Any, form: Any = None
    ) -> Any:
        """Create the user and social account of a first sign-in. When the same
        admin's first sign-in finished a moment earlier in another tab (the
        unique (provider, uid) insert fails), sign in to the account that tab
        created instead of answering 500. Other integrity errors propagate."""
        try:
            with transaction.atomic():
                return super().save_user(request, sociallogin, form)
        except IntegrityError:
            if not sociallogin.account.provider or not sociallogin.account.uid:
                raise
            sociallogin.user.pk = None  # its insert was rolled back
            sociallogin.lookup()  # allauth's own: finds the account by (provider, uid)
            if not sociallogin.is_existing:
                raise
            return sociallogin.user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: BaseException | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        raise ImmediateHttpResponse(
            refusal_response(request, classify(request, error, exception))
        )


def _store_sign_in(
    request: HttpRequest,
    user: Any,
    tokens: custody.SignInTokens,
    state: dict[str, Any],
) -> None:
    # A state without the access level was not made by this console's callback:
    # the lesser access.
    access = state.get(oidc.ACCESS) or OktaCredential.AUDITOR
    cred = custody.create_credential(user, tokens, access)
    request.session[session.CREDENTIAL] = str(cred.pk)
    request._okta_credential = cred  # type: ignore[attr-defined]
    people.note_person(
        tokens.okta_user_id,
        login=tokens.login,
        display_name=tokens.display_name,
        source=people.SIGN_IN,
    )
    step_up = state.get("step_up")
    if step_up and step_up.get("okta_user_id") == tokens.okta_user_id:
        request.session[session.PENDING_ACTION] = {**step_up, "at": time.time()}
    auditing.record(
        request,
        "sign_in",
        outcome="success",
        actor_id=tokens.okta_user_id,
        actor_login=tokens.login,
        detail={
            "step_up": bool(step_up),
            "auth_time": tokens.auth_time.isoformat(),
            "scopes": tokens.scope,
            "amr": tokens.claims.get("amr", []),
            "access": access,
        },
    )
