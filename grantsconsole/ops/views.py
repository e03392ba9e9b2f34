"""Liveness and readiness probes for the platform router and operators.

``/healthz`` answers without touching the database or Okta (the process is alive).
``/readyz`` checks what a request needs: the database and the Celery broker for
anyone (the platform's router), and for a signed-in Super Admin also Okta (the
org's discovery document, the worker's token and its scopes, and whether the
worker may read grants at all), with each check's details; it also raises the
"worker unhealthy" alert when no sync has succeeded for too long. Both answer JSON;
``/readyz`` answers 503 when a check fails. The Super Admin's answer also
reports how far the usage ingestion has read the System Log (information, never
a failure: a lagging ingestion does not stop the console). Neither reveals a
secret; Okta's own ``error`` and ``error_description`` are quoted, to Super
Admins only, when it refuses the worker.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from grantsconsole.accounts.access import is_super_admin
from grantsconsole.governance import watch
from grantsconsole.okta import (
    OktaClient,
    OktaError,
    OktaPermissionDenied,
    OktaTokenRefused,
)
from grantsconsole.okta_clients import (
    WORKER_OPTIONAL_SCOPES,
    WORKER_SCOPES,
    console_authorization_server,
    worker_auth_kind,
    worker_client,
)
from grantsconsole.usage import selectors as usage_selectors

logger = logging.getLogger(__name__)


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


#: seconds a "may the worker read grants" answer is reused: each probe is one
#: request in the org's ``/api/v1/apps*`` rate-limit bucket, shared with the syncs
GRANTS_PROBE_SECONDS = 60


def _okta_refusal(problem: str, exc: OktaError) -> dict:
    return {
        "ok": False,
        "auth": "oauth",
        "problem": problem,
        "error": exc.error_code,
        "error_description": exc.error_summary,
    }


def _grants_probe(client: OktaClient) -> dict:
    """Read the worker app's own grant collection with the worker's token: a
    service app acts with its admin role intersected with its scopes, and only
    this call shows both at once (403 E0000006 without an insufficient-scope
    challenge: no admin role that may read grants)."""
    # Keyed by the token, so a newly minted token is probed afresh.
    key = (
        "readyz:grants:"
        + hashlib.sha256(client.token_source.authorization().encode()).hexdigest()
    )
    result = cache.get(key)
    if result is None:
        try:
            client.list_grants(settings.OKTA_WORKER_CLIENT_ID)
            result = {"ok": True}
        except OktaPermissionDenied as exc:
            result = _okta_refusal("admin_role", exc)
        cache.set(key, result, GRANTS_PROBE_SECONDS)
    return result


def _check_okta() -> dict:
    # One attempt with short timeouts: a probe reports, it does not wait.
    server = console_authorization_server(timeout=(2, 3), attempts=1)
    issuer = server.openid_configuration().get("issuer")
    if issuer != settings.OKTA_ORG_URL:
        return {"ok": False, "error": "the discovery document names another issuer"}
    if worker_auth_kind() == "ssws":  # an SSWS token is not scoped
        return {"ok": True, "auth": "ssws"}
    client = worker_client()
    try:
        granted = client.token_source.granted_scopes()
    except OktaTokenRefused as exc:
        return _okta_refusal(f"token_{exc.problem}", exc)
    missing = sorted(set(WORKER_SCOPES) - set(granted) - WORKER_OPTIONAL_SCOPES)
    if missing:
        return {"ok": False, "auth": "oauth", "missing_scopes": missing}
    return {**_grants_probe(client), "auth": "oauth", "missing_scopes": []}


#: seconds between two looks at the worker's health from the web processes
WATCH_WORKER_SECONDS = 60


def _watch_worker() -> None:
    """Alert when the worker has not synced for too long (``watch.check_worker``),
    at most once a minute per cache. Done here because the platform probes
    this page: the worker's own check cannot run when the worker is down, so
    the alert's first delivery attempts are made in this process."""
    if not cache.add("readyz:watch-worker", 1, WATCH_WORKER_SECONDS):
        return
    try:
        watch.check_worker(deliver_now=True)
    except Exception:  # a probe reports, it never raises
        logger.exception("could not check the worker's health")


def _check_usage() -> dict:
    status = usage_selectors.ingestion_status()
    seen = status.seen
    return {
        "ok": True,
        "observed_from": seen.observed_from.isoformat() if seen.observed_from else None,
        "observed_to": seen.observed_to.isoformat() if seen.observed_to else None,
        "covered_days": seen.days(),
        "lag_seconds": None
        if status.lag_seconds is None
        else round(status.lag_seconds),
        "gaps": status.gaps,
    }


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness. Anyone: ``{"ok": bool}`` from the database and broker checks,
    without a request to Okta (callers cannot spend the org's rate limit or learn
    how the worker is set up). A signed-in Super Admin (``is_super_admin``):
    ``{"status": "ok"|"fail", "checks": {name: {"ok": bool, ...}}}`` with Okta too.

    Each check's failure is reported by exception class only (no message text, which
    might echo a URL or credential), except Okta's refusals of the worker:
    ``"okta": {"ok": false, "problem": "token_scope" | "token_key_id" |
    "token_client" | "token_other" | "admin_role", "error": <Okta's error or
    errorCode>, "error_description": <its description or errorSummary>}`` or
    ``"missing_scopes": [...]``. The status is 503 when any check fails.
    """
    try:
        detailed = is_super_admin(request)
    except Exception:  # the session store is down: the database check says so
        detailed = False
    probes = [("database", _check_database), ("broker", _check_broker)]
    if detailed:
        probes += [("okta", _check_okta), ("usage", _check_usage)]
    checks: dict[str, dict] = {}
    for name, check in probes:
        started = time.monotonic()
        try:
            result = check()
        except Exception as exc:  # a probe reports, it never raises
            result = {"ok": False, "error": type(exc).__name__}
        result["ms"] = round((time.monotonic() - started) * 1000, 1)
        checks[name] = result
    ok = all(c["ok"] for c in checks.values())
    _watch_worker()
    if not detailed:
        return JsonResponse({"ok": ok}, status=200 if ok else 503)
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": checks}, status=200 if ok else 503
    )
