"""Receivers: store the tokens after a Super Admin sign-in, stamp session times,
end the tokens when a session is logged out."""

from __future__ import annotations

import time
from typing import Any

from allauth.account.signals import user_logged_in as allauth_logged_in
from django.contrib.auth.signals import user_logged_in as django_logged_in
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from grantsconsole.accounts import auditing, custody, session
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


@receiver(allauth_logged_in, dispatch_uid="accounts.store_okta_tokens")
def store_okta_tokens(
    sender: Any, request: HttpRequest, user: Any, sociallogin: Any = None, **kwargs: Any
) -> None:
    """After an Okta sign-in that passed the Super Admin check: encrypt and store
    the tokens, bind them to this session, restore a pending step-up action."""
    tokens = getattr(sociallogin, "okta_signin", None)
    if tokens is None:
        return
    cred = custody.create_credential(user, tokens)
    request.session[session.CREDENTIAL] = str(cred.pk)
    request._okta_credential = cred  # type: ignore[attr-defined]
    step_up = (getattr(sociallogin, "state", None) or {}).get("step_up")
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
        },
    )


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
