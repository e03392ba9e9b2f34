"""Access control for console views (deny by default; ASVS 8.2.1, 8.3.2).

Public API:

* ``@super_admin_required`` - a signed-in Super Admin; the role is re-checked
  with Okta (``GET /api/v1/users/{uid}/roles``, the admin's own token) when the
  last check is older than ``ACCOUNTS_ROLE_RECHECK_SECONDS`` (300).
* ``@super_admin_write`` - the same, but unsafe methods (POST, PUT, PATCH,
  DELETE) always get a fresh role check before the view runs, so a Super Admin
  demoted in Okta is refused before any Okta write. GET/HEAD behave like
  ``super_admin_required``.
* ``@auditor_allowed`` - a signed-in Super Admin or auditor
  (:mod:`grantsconsole.accounts.roles`), for the read-only pages auditors may
  open: the audit, reports, exports and Console health. Safe methods only.
* ``@owner_write`` - for the few writes an app owner may make who signs in as
  an auditor (answering attestation for the apps they own): unsafe methods get
  a fresh role check and a Super Admin or an auditor goes ahead; the view
  refuses an auditor anything not theirs with ``refuse_auditor(request)``.
* ``admin_client(request) -> OktaClient`` - acts with the signed-in admin's
  delegated token (decrypted from custody, refreshed before expiry and once on a
  401, refreshed tokens stored back encrypted). One client per request.
* ``require_recent_auth(request, resume_url, pending_post_data)`` - step-up
  before granting or revoking a ``manage`` scope: returns None when the admin
  authenticated at Okta within ``ACCOUNTS_STEP_UP_MAX_AGE`` (900 s), else a
  response that sends them through Okta with ``max_age`` and afterwards to a
  page that re-submits ``pending_post_data`` to ``resume_url``.
* ``step_up_due(request) -> bool`` - whether ``require_recent_auth`` would send
  the admin to Okta now; ``step_up_notice(request)`` the context of the line
  (``accounts/_step_up_note.html``) a confirmation shows first.
* ``okta_identity(request) -> (okta_user_id, login)`` for audit rows.
* ``is_super_admin(request) -> bool`` - the ``super_admin_required`` check as a
  question, for views that answer everyone but tell Super Admins more.
* ``access_of(request) -> str`` - ``"super_admin"``, ``"auditor"`` or ``""``
  as last checked, without a call to Okta (for the nav).

A write without a signed-in session is counted as a ``not_signed_in`` security
event (``accounts.security_events``), not an audit row. A signed-in admin's
refusal writes an ``authz_denied`` audit row and renders
``accounts/denied.html`` with 403. When Okta's answer is that the user is
neither a Super Admin nor an auditor, the session also ends (tokens revoked at
Okta); an auditor refused a Super Admin page keeps the session. When Okta could
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
    "access_of",
    "admin_client",
    "auditor_allowed",
    "is_super_admin",
    "okta_identity",
    "owner_write",
    "refuse_auditor",
    "require_recent_auth",
    "step_up_due",
    "step_up_notice",
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
    # An auditor refused a Super Admin page stays signed in for the pages they
    # may read; anyone else has no business here.
    if not decision.transient and not decision.allowed:
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


def _check(
    request: HttpRequest, *, fresh: bool, auditors: bool = False
) -> HttpResponse | None:
    """None when the request may go ahead, else the response to return.
    ``auditors``: an auditor may go ahead too (else only a Super Admin)."""
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
    # An auditor refused below is shown Okta's answer, roles included, when it
    # was just asked for.
    decision = roles.RoleDecision(True, "auditor")
    if fresh or stale:
        decision = roles.check_access(client, cred.okta_user_id, cred.groups)
        if not decision.allowed:
            return _deny(request, cred, decision)
        OktaCredential.objects.filter(pk=cred.pk).update(
            role_checked_at=now, last_used_at=now, access=decision.reason
        )
        cred.role_checked_at = cred.last_used_at = now
        cred.access = decision.reason
    elif now - cred.last_used_at >= timedelta(seconds=60):
        OktaCredential.objects.filter(pk=cred.pk).update(last_used_at=now)
        cred.last_used_at = now
    if cred.access == OktaCredential.SUPER_ADMIN or (
        auditors and cred.access == OktaCredential.AUDITOR
    ):
        return None
    return _deny(request, cred, decision)


def super_admin_required(view: View) -> View:
    """Decorator for read views: signed-in Super Admin, role at most 5 min old."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _check(request, fresh=False) or view(request, *args, **kwargs)

    return wrapper


def auditor_allowed(view: View) -> View:
    """Decorator for the pages auditors may read too (the audit, reports,
    exports, Console health): a signed-in Super Admin or auditor, role at most
    5 min old. Only for views that do not write; an unsafe method is refused
    here like an auditor's write (a fresh check, then 403 unless Super Admin)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        unsafe = request.method not in SAFE_METHODS
        return _check(request, fresh=unsafe, auditors=not unsafe) or view(
            request, *args, **kwargs
        )

    return wrapper


def is_super_admin(request: HttpRequest) -> bool:
    """Whether a signed-in Super Admin sent ``request``, checked as
    ``@super_admin_required`` does (a refusal is audited; one that is not an
    auditor's ends the session). Without a signed-in session, or for an
    auditor: False, and no audit row. For views that answer everyone but tell
    Super Admins more."""
    cred = session.credential_of(request)
    if cred is None:
        return False
    if _check(request, fresh=False, auditors=True) is not None:
        return False
    return cred.access == OktaCredential.SUPER_ADMIN


def access_of(request: HttpRequest) -> str:
    """``"super_admin"`` or ``"auditor"`` for a signed-in session as last
    checked with Okta, else ``""``. No Okta call: for showing, never for
    deciding."""
    cred = session.credential_of(request)
    return cred.access if cred is not None else ""


def super_admin_write(view: View) -> View:
    """Decorator for views that write to Okta: fresh role check on unsafe methods."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        fresh = request.method not in SAFE_METHODS
        return _check(request, fresh=fresh) or view(request, *args, **kwargs)

    return wrapper


def owner_write(view: View) -> View:
    """Decorator for writes an auditor who owns the thing may make too: a
    fresh role check on unsafe methods, then a Super Admin or an auditor goes
    ahead. The view must call :func:`refuse_auditor` for whatever an auditor
    does not own."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        fresh = request.method not in SAFE_METHODS
        return _check(request, fresh=fresh, auditors=True) or view(
            request, *args, **kwargs
        )

    return wrapper


def refuse_auditor(request: HttpRequest) -> HttpResponse:
    """The refusal ``@super_admin_write`` gives a signed-in auditor (403, an
    ``authz_denied`` audit row, Okta's answer on the roles, session kept), for
    a view behind ``@owner_write``. Raises PermissionDenied if the request
    turns out to come from a Super Admin (a caller's mistake)."""
    response = _check(request, fresh=True)
    if response is None:
        raise PermissionDenied("A Super Admin was refused as an auditor.")
    return response


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


def step_up_due(request: HttpRequest) -> bool:
    """Whether a ``manage``-scope change now would send the admin through Okta
    first (:func:`require_recent_auth`): the Okta sign-in is older than
    ``ACCOUNTS_STEP_UP_MAX_AGE`` or lacks the MFA that
    ``ACCOUNTS_STEP_UP_ACR_VALUES`` demands. Raises PermissionDenied when not
    signed in with Okta."""
    cred = session.credential_of(request)
    if cred is None:
        raise PermissionDenied("No Okta sign-in in this session.")
    recent = timezone.now() - cred.auth_time <= timedelta(seconds=_step_up_seconds())
    return not recent or bool(_step_up_acr() and "mfa" not in (cred.amr or []))


def step_up_notice(request: HttpRequest) -> dict[str, Any]:
    """Template context for ``accounts/_step_up_note.html``, the line a
    confirmation shows when the change will go through Okta first:
    ``step_up_due`` (bool), ``step_up_minutes`` (int) and ``step_up_mfa``
    (bool: a second factor is demanded too)."""
    return {
        "step_up_due": step_up_due(request),
        "step_up_minutes": _step_up_seconds() // 60,
        "step_up_mfa": bool(_step_up_acr()),
    }


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
    if not step_up_due(request):
        return None
    cred = session.credential_of(request)
    assert cred is not None  # step_up_due
    max_age = _step_up_seconds()
    acr_values = _step_up_acr()
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
