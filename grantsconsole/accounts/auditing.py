"""Audit rows for sign-in events, with who/where context (ASVS 16.2.1, 16.3.1-2)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest

from grantsconsole.accounts import security_events
from grantsconsole.grants import audit


def _session_hash(request: HttpRequest) -> str:
    key = getattr(getattr(request, "session", None), "session_key", None) or ""
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""


def record(
    request: HttpRequest,
    action: str,
    *,
    outcome: str,
    actor_id: str = "",
    actor_login: str = "",
    okta_request_id: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit row (``grantsconsole.grants.audit.record``) adding the
    client IP (``security_events.client_ip``: the router's ``X-Forwarded-For``
    entry in production, not the router's own address), a hash of the session key and the request path (cut to 200
    characters) to ``detail``. Only for a refusal or event that names a
    signed-in (or Okta-authenticated) admin: refusals of anonymous requests go
    to ``security_events.note``.
    Never put a token in ``detail``."""
    full = {
        "ip": security_events.client_ip(request),
        "session": _session_hash(request),
        "path": request.path[:200],
        **(detail or {}),
    }
    audit.record(
        action,
        actor_id=actor_id,
        actor_login=actor_login,
        outcome=outcome,
        okta_request_id=okta_request_id,
        detail=full,
    )
