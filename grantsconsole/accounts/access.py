"""Access control for console views (deny by default; ASVS 8.2.1, 8.3.2).

Public API:

* ``@super_admin_required`` - a signed-in Super Admin; the role is re-checked
  with Okta (``GET /api/v1/users/{uid}/roles``, the admin's own token) when the
  last check is older than ``ACCOUNTS_ROLE_RECHECK_SECONDS`` (300).
* ``@super_admin_write`` - the same, but unsafe methods (POST, PUT, PATCH,
  DELETE) always get a fresh role check before the view runs, so a Super Admin
  demoted in Okta is refused before any Okta write. GET/HEAD behave like
  ``super_admin_required``.
* ``admin_client(request) -> OktaClient`` - acts with the signed-in admin's
  delegated token (decrypted from custody, refreshed before expiry and once on a
  401, refreshed tokens stored back encrypted). One client per request.
* ``require_recent_auth(request, resume_url, pending_post_data)`` - step-up
  before granting or revoking a ``manage`` scope: returns None when the admin
  authenticated at Okta within ``ACCOUNTS_STEP_UP_MAX_AGE`` (900 s), else a
  response that sends them through Okta with ``max_age`` and afterwards to a
  page that re-submits ``pending_post_data`` to ``resume_url``.
* ``okta_identity(request) -> (okta_user_id, login)`` for audit rows.
* ``is_super_admin(request) -> bool`` - the ``super_admin_required`` check as a
  question, for views that answer everyone but tell Super Admins more.

A write without a signed-in session is counted as a ``not_signed_in`` security
event (``accounts.security_events``), not an audit row. A signed-in admin's
refusal writes an ``authz_denied`` audit row, ends the session (tokens
revoked at Okta) and renders ``accounts/denied.html`` with 403; when Okta could
not be asked, 503 and the session is kept (fail closed, not signed out). For
htmx requests the same page comes with status 200 and ``HX-Retarget: #main``
(htmx swaps only 2xx), and "sign in first" is a 401 with ``HX-Redirect``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from grantsconsole import okta_clients
from grantsconsole.accounts import (
    auditing,
    custody,
    oidc,
    roles,
    security_events,
    session,
)
from grantsconsole.accounts.crypto import TokenDecryptionError
from grantsconsole.accounts.models import OktaCredential
from grantsconsole.okta import OktaClient

__all__ = [
    "admin_client",
    "is_super_admin",
    "okta_identity",
    "require_recent_auth",
    "super_admin_required",
    "super_admin_write",
]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
View = Callable[..., HttpResponse]


def _recheck_seconds() -> int:
    return int(getattr(settings, "ACCOUNTS_ROLE_RECHECK_SECONDS", 300))


def _step_up_seconds() -> int:
    return int(getattr(settings, "ACCOUNTS_STEP_UP_MAX_AGE", 900))


def _step_up_acr() -> str:
    return str(getattr(settings, "ACCOUNTS_STEP_UP_ACR_VALUES", "") or "")


def _not_signed_in(request: HttpRequest) -> HttpResponse:
    if request.method not in SAFE_METHODS:
        # A write attempted without a session: counted, not chained (anyone can
        # send one; see security_events).
        security_events.note(request, "not_signed_in")
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=401)
        response["HX-Redirect"] = reverse("account_login")
        return response
    return redirect_to_login(request.get_full_path())


def _deny(
    request: HttpRequest, cred: OktaCredential, decision: roles.RoleDecision
) -> HttpResponse:
    auditing.record(
        request,
        "authz_denied",
        outcome="denied",
        actor_id=cred.okta_user_id,
        actor_login=cred.login,
        okta_request_id=decision.okta_request_id,
        detail={"during": request.method, **decision.audit_detail()},
    )
    if not decision.transient:
        session.end_session(request)
    response = render(
        request,
        "accounts/denied.html",
        {"decision": decision, "login": cred.login},
        status=503 if decision.transient else 403,
    )
    if request.headers.get("HX-Request") == "true":
        # htmx swaps only 2xx answers (base.html's htmx-config): replace <main>
        # with the explanation instead of failing silently.
        response.status_code = 200
        response["HX-Retarget"] = "#main"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Reselect"] = "#main"
    return response


def _check(request: HttpRequest, *, fresh: bool) -> HttpResponse | None:
    """None when the request may go ahead, else the response to return."""
    cred = session.credential_of(request)
    if cred is None:
        return _not_signed_in(request)
    now = timezone.now()
    stale = now - cred.role_checked_at >= timedelta(seconds=_recheck_seconds())
    try:
        client = admin_client(request)
    except TokenDecryptionError:  # TOKEN_ENCRYPTION_KEY rotated away: sign in again
        session.end_session(request)
        return _not_signed_in(request)
    if fresh or stale:
        decision = roles.check_super_admin(client, cred.okta_user_id)
        if not decision.allowed:
            return _deny(request, cred, decision)
        OktaCredential.objects.filter(pk=cred.pk).update(
            role_checked_at=now, last_used_at=now
        )
        cred.role_checked_at = cred.last_used_at = now
    elif now - cred.last_used_at >= timedelta(seconds=60):
        OktaCredential.objects.filter(pk=cred.pk).update(last_used_at=now)
        cred.last_used_at = now
    return None


def super_admin_required(view: View) -> View:
    """Decorator for read views: signed-in Super Admin, role at most 5 min old."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _check(request, fresh=False) or view(request, *args, **kwargs)

    return wrapper


def is_super_admin(request: HttpRequest) -> bool:
    """Whether a signed-in Super Admin sent ``request``, checked as
    ``@super_admin_required`` does (a refusal is audited and ends the session).
    Without a signed-in session: False, and no Okta call. For views that answer
    everyone but tell Super Admins more."""
    return (
        session.credential_of(request) is not None
        and _check(request, fresh=False) is None
    )


def super_admin_write(view: View) -> View:
    """Decorator for views that write to Okta: fresh role check on unsafe methods."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        fresh = request.method not in SAFE_METHODS
        return _check(request, fresh=fresh) or view(request, *args, **kwargs)

    return wrapper


def admin_client(request: HttpRequest) -> OktaClient:
    """An OktaClient acting with the signed-in admin's own token (cached on the
    request). Raises PermissionDenied when the session holds no Okta tokens."""
    client = getattr(request, "_okta_admin_client", None)
    if client is not None:
        return client
    cred = session.credential_of(request)
    if cred is None:
        raise PermissionDenied("No Okta sign-in in this session.")
    client = okta_clients.admin_client(
        cred, on_refresh=functools.partial(custody.store_refresh, cred.pk)
    )
    request._okta_admin_client = client  # type: ignore[attr-defined]
    return client


def okta_identity(request: HttpRequest) -> tuple[str, str]:
    """``(okta_user_id, login)`` of the signed-in admin, for audit rows.
    Raises PermissionDenied when the session holds no Okta sign-in."""
    cred = session.credential_of(request)
    if cred is None:
        raise PermissionDenied("No Okta sign-in in this session.")
    return cred.okta_user_id, cred.login


def _post_lists(data: Mapping[str, Any] | QueryDict) -> dict[str, list[str]]:
    if isinstance(data, QueryDict):
        items = {k: [str(v) for v in vs] for k, vs in data.lists()}
    else:
        items = {
            str(k): [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
            for k, v in data.items()
        }
    items.pop("csrfmiddlewaretoken", None)
    return items


def require_recent_auth(
    request: HttpRequest,
    resume_url: str,
    pending_post_data: Mapping[str, Any] | QueryDict,
) -> HttpResponse | None:
    """Step-up for sensitive writes (granting/revoking a ``manage`` scope).

    Returns None when the admin's Okta ``auth_time`` is at most
    ``ACCOUNTS_STEP_UP_MAX_AGE`` seconds old (and, when
    ``ACCOUNTS_STEP_UP_ACR_VALUES`` is set, e.g. to ``urn:okta:loa:2fa:any``,
    that authentication used MFA: ``mfa`` in ``amr``). Otherwise returns a redirect to
    ``/oauth2/v1/authorize`` with ``max_age`` (an ``HX-Redirect`` for htmx
    requests); after Okta re-authenticates the admin, the callback checks that
    ``auth_time`` is recent and lands on ``accounts:step_up_resume``, which
    re-submits ``pending_post_data`` (a QueryDict or mapping of field ->
    value(s); the CSRF token is dropped) by POST to ``resume_url`` (a path on
    this site). Raises ValueError for an off-site ``resume_url`` and
    PermissionDenied when not signed in with Okta.
    """
    cred = session.credential_of(request)
    if cred is None:
        raise PermissionDenied("No Okta sign-in in this session.")
    max_age = _step_up_seconds()
    acr_values = _step_up_acr()
    recent = timezone.now() - cred.auth_time <= timedelta(seconds=max_age)
    if recent and (not acr_values or "mfa" in (cred.amr or [])):
        return None
    if not url_has_allowed_host_and_scheme(
        resume_url,
        allowed_hosts={request.get_host()},
        require_https=request.is_secure(),
    ) or not resume_url.startswith("/"):
        raise ValueError("resume_url must be a path on this site")
    response = oidc.step_up_redirect(
        request,
        max_age=max_age,
        next_url=reverse("accounts:step_up_resume"),
        acr_values=acr_values,
        step_up={
            "resume_url": resume_url,
            "post": _post_lists(pending_post_data),
            "okta_user_id": cred.okta_user_id,
        },
    )
    if request.headers.get("HX-Request") == "true" and response.status_code == 302:
        hx = HttpResponse(status=200)
        hx["HX-Redirect"] = response["Location"]
        return hx
    return response
