"""Idle and absolute session timeouts (ASVS 3.3.2 L2: 30 min idle, 12 h absolute).

The limits are enforced from the times stored in the session (``LOGIN_AT``,
``LAST_SEEN``), so the absolute cap holds however active the admin is.
``LAST_SEEN`` is renewed at most once every ``LAST_SEEN_RESOLUTION`` seconds:
the session (and its cookie, ``SESSION_COOKIE_AGE`` = the idle limit) is saved
then, not on every request, so browsing writes nothing to the database. An ``OktaUnauthorized`` escaping a view
(the admin's token refused even after a refresh) also ends the session. An
ended session has its Okta tokens revoked
and deleted, gets a ``sign_out`` audit row and is sent to the sign-in page.
Place after ``AuthenticationMiddleware``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from grantsconsole.accounts import auditing, session
from grantsconsole.okta import OktaUnauthorized

LAST_SEEN_RESOLUTION = 60  # seconds: idle sessions end 29-30 min after the last request

EXPIRED_MESSAGES = {
    "absolute_timeout": "You were signed out: sessions last at most 12 hours.",
    "idle_timeout": "You were signed out after 30 minutes without activity.",
    "okta_token_rejected": (
        "You were signed out: Okta no longer accepts this console's token for your "
        "account (revoked or expired). Sign in again."
    ),
}


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            login_at = request.session.get(session.LOGIN_AT)
            last_seen = request.session.get(session.LAST_SEEN, login_at)
            reason = ""
            if login_at is None or now - login_at > settings.SESSION_ABSOLUTE_SECONDS:
                reason = "absolute_timeout"
            elif last_seen is None or now - last_seen > settings.SESSION_COOKIE_AGE:
                reason = "idle_timeout"
            if reason:
                return self._expire(request, reason)
            if last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION:
                request.session[session.LAST_SEEN] = now
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        """Okta refused the admin's token even after one refresh (revoked, or the
        refresh token expired): end the session and ask for a new sign-in."""
        if isinstance(exception, OktaUnauthorized) and session.credential_of(request):
            return self._expire(request, "okta_token_rejected")
        return None

    def _expire(self, request: HttpRequest, reason: str) -> HttpResponse:
        cred = session.credential_of(request)
        auditing.record(
            request,
            "sign_out",
            outcome="success",
            actor_id=cred.okta_user_id if cred else "",
            actor_login=cred.login if cred else "",
            detail={"reason": reason},
        )
        session.end_session(request)
        messages.info(request, EXPIRED_MESSAGES[reason])
        path = request.get_full_path() if request.method in ("GET", "HEAD") else "/"
        response = redirect_to_login(path)
        if request.headers.get("HX-Request") == "true":
            # XHR would follow a 302 silently; htmx navigates on HX-Redirect.
            hx = HttpResponse(status=204)
            hx["HX-Redirect"] = response["Location"]
            return hx
        return response


class NoStoreMiddleware:
    """Signed-in answers (every console page, fragment and export) carry
    ``Cache-Control: no-store`` (Django's ``add_never_cache_headers``), so no
    browser or proxy cache keeps grant data after the admin signs out.
    Overrides a view's own ``max-age``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        signed_in = request.user.is_authenticated  # before a sign-out view ends it
        response = self.get_response(request)
        if signed_in:
            add_never_cache_headers(response)
        return response
