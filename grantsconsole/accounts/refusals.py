"""Refused sign-ins: reason codes, their plain-words explanations, the page and
the record (ASVS 16.3.1: every authentication failure is logged): an audit row
for a signed-in admin, a security event for anyone else."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from requests import RequestException

from grantsconsole.accounts import auditing, security_events, session


class SignInRefused(OAuth2Error):
    """The callback failed a check; ``reason`` is a key of :data:`FAILURES`.
    Never carries a token."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


#: reason code -> plain words for the "sign-in refused" page
FAILURES = {
    "state_invalid": (
        "This sign-in response does not belong to a sign-in started in this browser "
        "(its state is unknown, already used or expired). Nothing was stored. Start "
        "the sign-in again from this console."
    ),
    "nonce_mismatch": (
        "Okta's ID token was not minted for this sign-in (nonce mismatch): it may "
        "be a replayed response. Nothing was stored."
    ),
    "wrong_issuer": (
        "The ID token was not issued by this console's Okta org. Nothing was stored."
    ),
    "wrong_audience": (
        "The ID token was issued to another application, not this console. "
        "Nothing was stored."
    ),
    "expired": "The ID token has expired. Nothing was stored; sign in again.",
    "not_yet_valid": (
        "The ID token is not valid yet; check the server clock. Nothing was stored."
    ),
    "unsigned": "The ID token is not signed. Nothing was stored.",
    "bad_signature": (
        "The ID token's signature does not match the org's signing keys. Nothing "
        "was stored."
    ),
    "malformed": "The ID token could not be read. Nothing was stored.",
    "missing": "Okta returned no ID token. Nothing was stored.",
    "keys_unavailable": (
        "The org's signing keys could not be fetched, so the ID token could not be "
        "checked. Nothing was stored; try again in a minute."
    ),
    "not_recent": (
        "This action needs a fresh sign-in, but Okta did not ask you to sign in "
        "again. Nothing was done."
    ),
    "mfa_missing": (
        "This action needs a sign-in with a second factor, but Okta did not report "
        "one (amr has no 'mfa'). Nothing was done; enrol a factor in Okta or ask "
        "an admin to require MFA for this console app."
    ),
    "userinfo_mismatch": (
        "Okta's user profile does not match the ID token. Nothing was stored."
    ),
    "code_rejected": (
        "Okta refused the authorization code (used before, expired, or not issued "
        "to this browser's sign-in). Nothing was stored; sign in again."
    ),
    "scope_not_granted": (
        "Okta refused the scopes the console asks for: the console app's grant "
        "collection lacks one of them. A Super Admin must grant it in Okta "
        "(Applications > the console app > Okta API Scopes)."
    ),
    "okta_error": "Okta ended the sign-in with an error. Nothing was stored.",
    "cancelled": "The sign-in was cancelled at Okta. Nothing was stored.",
    "okta_unavailable": (
        "Okta could not be reached to finish the sign-in. Nothing was stored; try "
        "again in a minute."
    ),
    "refused": "The sign-in was refused. Nothing was stored.",
}


def classify(
    request: HttpRequest, error: Any = None, exception: BaseException | None = None
) -> str:
    """Map an allauth authentication error to a key of :data:`FAILURES`."""
    if isinstance(exception, SignInRefused):
        return exception.reason if exception.reason in FAILURES else "refused"
    if isinstance(exception, RequestException):
        return "okta_unavailable"
    if isinstance(exception, OAuth2Error):
        return "code_rejected"
    if isinstance(exception, PermissionDenied):
        return "refused"
    okta_error = request.GET.get("error", "")
    if okta_error == "invalid_scope":
        return "scope_not_granted"
    if okta_error == "access_denied":
        return "cancelled"
    if okta_error:
        return "okta_error"
    return "state_invalid"


#: Okta's ``error`` on its redirect back (the OAuth 2.0 and OpenID Connect
#: codes) -> a fixed sentence for the page, which never shows the request's text
OKTA_ERRORS = {
    "access_denied": (
        "Okta says access was denied: the sign-in was cancelled, or you are not "
        "assigned to the console app."
    ),
    "invalid_scope": "Okta says the console asked for a scope it may not have.",
    "invalid_request": "Okta says the sign-in request was malformed.",
    "unauthorized_client": (
        "Okta says the console app may not sign people in this way."
    ),
    "unsupported_response_type": (
        "Okta says the console app may not use this sign-in flow."
    ),
    "invalid_client": "Okta does not recognise the console app.",
    "server_error": "Okta had an internal error.",
    "temporarily_unavailable": "Okta is temporarily unavailable.",
    "login_required": "Okta needs you to sign in again.",
    "consent_required": "Okta needs your consent first.",
    "interaction_required": "Okta needs you to interact with the sign-in page.",
}
OKTA_ERROR_UNKNOWN = "Okta reported an error this console does not recognise."


def okta_error_message(request: HttpRequest) -> str:
    """The fixed sentence for the ``error`` code Okta sent back ("" for none)."""
    code = request.GET.get("error", "")
    return OKTA_ERRORS.get(code, OKTA_ERROR_UNKNOWN) if code else ""


def refusal_response(request: HttpRequest, reason: str) -> HttpResponse:
    """Record a refused sign-in and render the page explaining it (HTTP 400,
    or 503 when Okta was unreachable) with fixed sentences only: nothing of the
    request's own text (``error_description``, the query string) is shown.

    Recorded as a ``sign_in`` failure audit row when an admin is signed in
    (a step-up sign-in), else as a ``sign_in:<reason>`` security event: a
    callback anyone can forge must not grow the audit chain."""
    cred = session.credential_of(request)
    if cred is None:
        security_events.note(request, f"sign_in:{reason}")
    else:
        auditing.record(
            request,
            "sign_in",
            outcome="failure",
            actor_id=cred.okta_user_id,
            actor_login=cred.login,
            detail={
                "reason": reason,
                "okta_error": request.GET.get("error", ""),
                "okta_error_description": request.GET.get("error_description", ""),
            },
        )
    status = 503 if reason in ("okta_unavailable", "keys_unavailable") else 400
    return render(
        request,
        "accounts/sign_in_failed.html",
        {
            "reason": reason,
            "message": FAILURES[reason],
            "okta_error_message": okta_error_message(request),
        },
        status=status,
    )
