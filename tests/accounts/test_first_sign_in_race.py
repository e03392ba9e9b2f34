"""A Super Admin's very first sign-in completed in two tabs at once (F-7)."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from grantsconsole.accounts.adapter import SocialAccountAdapter

pytestmark = pytest.mark.django_db

UID = "00u1super0admin0000"


def _first_sign_in(email: str) -> SocialLogin:
    """The SocialLogin allauth builds for a callback whose lookup found no
    account yet (the other tab had not committed when this one looked)."""
    user = get_user_model()(email=email)
    account = SocialAccount(provider="okta", uid=UID, extra_data={"sub": UID})
    return SocialLogin(user=user, account=account)


def _request():
    request = RequestFactory().get("/accounts/okta/login/callback/")
    request.session = SessionStore()
    return request


def test_the_second_tab_signs_in_to_the_account_the_first_created():
    adapter = SocialAccountAdapter()
    first = _first_sign_in("super.admin@example.com")
    second = _first_sign_in("super.admin@example.com")  # looked up before commit

    created = adapter.save_user(_request(), first)
    joined = adapter.save_user(_request(), second)

    assert joined.pk == created.pk
    assert second.account.pk == first.account.pk
    assert SocialAccount.objects.filter(provider="okta", uid=UID).count() == 1
    assert get_user_model().objects.count() == 1
