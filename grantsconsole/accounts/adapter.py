"""allauth adapters: refuse local sign-up, turn every failed callback into a
clear page plus an audit row (:mod:`grantsconsole.accounts.refusals`)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
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
