"""allauth adapters: refuse local sign-up, turn every failed callback into a
clear page plus an audit row (:mod:`grantsconsole.accounts.refusals`)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from grantsconsole.accounts.refusals import classify, refusal_response


class AccountAdapter(DefaultAccountAdapter):
    """No local accounts: people sign in through Okta only."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Sign-up happens implicitly on a Super Admin's first Okta sign-in."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return hasattr(sociallogin, "okta_signin")

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
