"""Liveness and readiness probes for the platform router and operators.

``/healthz`` answers without touching the database or Okta (the process is alive).
``/readyz`` checks what a request needs: the database, the Celery broker, and Okta
(the org's discovery document, and the worker's token and its scopes). Both answer
JSON; ``/readyz`` answers 503 when a check fails. Neither reveals a secret.
"""

from __future__ import annotations

import time

import requests
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 ``{"status": "ok"}`` whenever the process serves requests."""
    return JsonResponse({"status": "ok"})


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True}


def _check_broker() -> dict:
    from grantsconsole.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "transport": conn.transport_cls}


def _check_okta() -> dict:
    url = f"{settings.OKTA_ORG_URL}/.well-known/openid-configuration"
    response = requests.get(url, timeout=(2, 3))
    response.raise_for_status()
    issuer = response.json().get("issuer")
    if issuer != settings.OKTA_ORG_URL:
        return {"ok": False, "error": "the discovery document names another issuer"}
    from grantsconsole.grants.okta_clients import WORKER_SCOPES, worker_client

    granted = worker_client().token_source.granted_scopes()
    if not granted:  # an SSWS token is not scoped
        return {"ok": True, "auth": "ssws"}
    missing = sorted(set(WORKER_SCOPES) - set(granted))
    return {"ok": not missing, "auth": "oauth", "missing_scopes": missing}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: ``{"status": "ok"|"fail", "checks": {name: {"ok": bool, ...}}}``.

    Each check's failure is reported by exception class only (no message text, which
    might echo a URL or credential); the status is 503 when any check fails.
    """
    checks: dict[str, dict] = {}
    for name, check in (
        ("database", _check_database),
        ("broker", _check_broker),
        ("okta", _check_okta),
    ):
        started = time.monotonic()
        try:
            result = check()
        except Exception as exc:  # a probe reports, it never raises
            result = {"ok": False, "error": type(exc).__name__}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        checks[name] = result
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )
