"""Receivers: stamp session times at login, end the tokens when a session is
logged out. (The tokens of a sign-in are stored by the account adapter's
``post_login`` hook, :mod:`grantsconsole.accounts.adapter`.)"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in as django_logged_in
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from grantsconsole.accounts import custody, session
from grantsconsole.accounts.models import OktaCredential


@receiver(django_logged_in, dispatch_uid="accounts.stamp_login")
def stamp_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Every login (Django rotated the session key already) starts the idle and
    absolute clocks."""
    if request is None or not hasattr(request, "session"):
        return
    now = time.time()
    request.session[session.LOGIN_AT] = now
    request.session[session.LAST_SEEN] = now


@receiver(user_logged_out, dispatch_uid="accounts.end_okta_tokens")
def end_okta_tokens(
    sender: Any, request: HttpRequest, user: Any, **kwargs: Any
) -> None:
    """Any logout (including allauth's before a re-login) ends the tokens the
    session held, at Okta too."""
    if request is None or not hasattr(request, "session"):
        return
    cid = request.session.get(session.CREDENTIAL)
    if not cid:
        return
    cred = OktaCredential.objects.filter(pk=cid).first()
    if cred is not None:
        custody.end_credential(cred)
    request.session.pop(session.CREDENTIAL, None)
