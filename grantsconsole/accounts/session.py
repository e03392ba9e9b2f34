"""Keys this app keeps in the (server-side) Django session, and the session-level
helpers shared by the middleware, decorators and views.

``LOGIN_AT`` / ``LAST_SEEN`` are UNIX times in seconds (UTC);
``CREDENTIAL`` is the id of the session's :class:`OktaCredential`;
``PENDING_ACTION`` a step-up action waiting to be resumed:
``{"resume_url": str, "post": {name: [values]}, "okta_user_id": str, "at": float}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest

from grantsconsole.accounts import custody
from grantsconsole.accounts.models import OktaCredential

logger = logging.getLogger("grantsconsole.accounts")

CREDENTIAL = "accounts.credential"
LOGIN_AT = "accounts.login_at"
LAST_SEEN = "accounts.last_seen"
PENDING_ACTION = "accounts.pending_action"


def credential_of(request: HttpRequest) -> OktaCredential | None:
    """The signed-in user's credential for this session, or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(request, "_okta_credential", None)
    if cached is not None:
        return cached
    cid = request.session.get(CREDENTIAL)
    if not cid:
        return None
    cred = OktaCredential.objects.filter(pk=cid, user=user).first()
    request._okta_credential = cred  # type: ignore[attr-defined]
    return cred


def end_session(request: HttpRequest) -> str:
    """Revoke and delete the session's Okta tokens, then log the user out.

    Returns the ID token (for RP logout), "" if there was none.
    """
    id_token = ""
    cid: Any = request.session.get(CREDENTIAL)
    if cid:
        cred = OktaCredential.objects.filter(pk=cid).first()
        if cred is not None:
            id_token = custody.end_credential(cred)
        request.session.pop(CREDENTIAL, None)
    request._okta_credential = None  # type: ignore[attr-defined]
    logout(request)
    return id_token
