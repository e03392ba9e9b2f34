"""Every Okta client of the console, built from settings in this one module.

* :func:`worker_client` - the worker's (full and incremental syncs, audit
  reports).
* :func:`usage_client` - the worker's credentials again, paced to the usage
  ingestion's own share of the System Log bucket.
* :func:`admin_client` - the signed-in Super Admin's, acting with their own
  delegated token; refreshed tokens are handed to ``on_refresh`` for storage.
* :func:`sign_in_client` - the same over the tokens of a sign-in in progress
  (the role check before anything is stored).
* :func:`console_authorization_server` - the console app at the Org
  Authorization Server: revoking its tokens, reading the discovery document.
* :func:`enforcer_client` - the optional enforcer service app, which revokes
  grants at their end time; only in a Celery worker process.

The worker reads Okta as an Okta **service app**: ``client_credentials`` with
``private_key_jwt`` against the Org Authorization Server, scopes
``okta.apps.read okta.appGrants.read okta.logs.read`` and, optionally,
``okta.users.read`` (names for the user ids the pages show) and
``okta.orgs.read`` (the public-client admin org setting) (Okta guide
"Implement OAuth for Okta with a service app").
Without ``OKTA_WORKER_CLIENT_ID`` + ``OKTA_WORKER_PRIVATE_KEY`` it falls back to
the legacy SSWS API token ``OKTA_SSWS_TOKEN``.

One client per process and org URL is kept, so its cached access token (one
hour) is shared by all tasks of the process. With ``REDIS_URL`` set, the
rate-limit pacing state lives in Redis (``RedisPacer``), so all worker
processes together stay within the service app's share of each bucket.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from grantsconsole.okta import (
    OktaClient,
    OrgAuthorizationServer,
    ServiceAppTokenSource,
    SswsTokenSource,
    TokenSet,
    UserTokenSource,
)
from grantsconsole.okta.redis_pacer import RedisPacer

if TYPE_CHECKING:
    from grantsconsole.accounts.custody import SignInTokens
    from grantsconsole.accounts.models import OktaCredential

# Okta issues only the requested scopes the app holds, so an optional one the
# worker's app lacks is just left out of its token.
WORKER_OPTIONAL_SCOPES = frozenset(
    {
        "okta.users.read",
        "okta.oauthIntegrations.read",
        "okta.roles.read",
        "okta.orgs.read",
    }
)
WORKER_SCOPES = (
    "okta.apps.read",
    "okta.appGrants.read",
    "okta.logs.read",
    *sorted(WORKER_OPTIONAL_SCOPES),
)
# Longest single wait (rate-limit pacing or a 429's reset) inside a web request.
ADMIN_MAX_WAIT_SECONDS = 5.0
REVOKE_TIMEOUT = (5.0, 10.0)  # (connect, read) seconds

# The enforcer's scope: it revokes grants and nothing else (manage implies read).
ENFORCER_SCOPES = ("okta.appGrants.manage",)

_lock = threading.Lock()
# Set by the Celery worker's start-up (grantsconsole.celery): only then may the
# enforcer's key be read. Web processes never set it.
_enforcer_process = False
_clients: dict[tuple[int, str, str], OktaClient] = {}


def worker_auth_kind() -> str:
    """ "service_app" or "ssws": which credentials ``worker_client()`` uses."""
    if settings.OKTA_WORKER_CLIENT_ID and settings.OKTA_WORKER_PRIVATE_KEY:
        return "service_app"
    if settings.OKTA_SSWS_TOKEN:
        return "ssws"
    raise ImproperlyConfigured(
        "No worker credentials: set OKTA_WORKER_CLIENT_ID and OKTA_WORKER_PRIVATE_KEY "
        "(an Okta service app), or the legacy OKTA_SSWS_TOKEN."
    )


def _pacer(
    org_url: str, identity: str, share: float | None = None
) -> RedisPacer | None:
    """With Redis configured, every worker process paces through one shared
    budget (the service app's share of each rate-limit bucket); else None
    (the client paces per process)."""
    if not settings.REDIS_URL:
        return None
    import redis

    options: dict[str, object] = {"socket_timeout": 5, "socket_connect_timeout": 5}
    if settings.REDIS_URL.startswith("rediss://"):
        # REDIS_TLS_VERIFY=false for self-signed add-ons (Heroku Key-Value Store).
        options["ssl_cert_reqs"] = "required" if settings.REDIS_TLS_VERIFY else None
    connection = redis.Redis.from_url(settings.REDIS_URL, **options)
    return RedisPacer(
        connection,
        f"grantsconsole:okta-pace:{org_url}:{identity}",
        share=share or settings.OKTA_RATE_LIMIT_SHARE,
    )


def _build() -> OktaClient:
    org_url = settings.OKTA_ORG_URL
    if worker_auth_kind() == "service_app":
        source = ServiceAppTokenSource(
            org_url,
            settings.OKTA_WORKER_CLIENT_ID,
            settings.OKTA_WORKER_PRIVATE_KEY,
            key_id=settings.OKTA_WORKER_KEY_ID or None,
            scopes=list(WORKER_SCOPES),
        )
    else:
        source = SswsTokenSource(settings.OKTA_SSWS_TOKEN)
    identity = (
        settings.OKTA_WORKER_CLIENT_ID
        if worker_auth_kind() == "service_app"
        else "ssws-"
        + hashlib.sha256(settings.OKTA_SSWS_TOKEN.encode()).hexdigest()[:12]
    )
    return OktaClient(
        org_url,
        source,
        share=settings.OKTA_RATE_LIMIT_SHARE,
        pacer=_pacer(org_url, identity),
    )


def worker_client() -> OktaClient:
    """The process's worker OktaClient for ``settings.OKTA_ORG_URL``.

    Raises ImproperlyConfigured when no worker credentials are set.
    """
    key = (os.getpid(), settings.OKTA_ORG_URL, worker_auth_kind())
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _build()
        return client


def usage_client() -> OktaClient:
    """The process's client for the usage ingestion: the worker's token source
    (one token for both), paced separately at ``USAGE_LOGS_BUCKET_SHARE`` of
    each bucket it touches (only ``/api/v1/logs``), so reading usage never
    eats the incremental sync's share. Every pacer also stops at the org-wide
    ``Remaining``, so the two together do not draw 429s.

    Raises ImproperlyConfigured when no worker credentials are set.
    """
    worker = worker_client()
    key = (os.getpid(), settings.OKTA_ORG_URL, "usage")
    with _lock:
        client = _clients.get(key)
        if client is None or client.token_source is not worker.token_source:
            share = settings.USAGE_LOGS_BUCKET_SHARE
            client = _clients[key] = OktaClient(
                settings.OKTA_ORG_URL,
                worker.token_source,
                share=share,
                pacer=_pacer(settings.OKTA_ORG_URL, "usage", share),
            )
        return client


def forget_worker_clients() -> None:
    """Drop cached clients (tests that reset the simulator between runs)."""
    with _lock:
        _clients.clear()


def admin_client(
    cred: OktaCredential, *, on_refresh: Callable[[TokenSet], None]
) -> OktaClient:
    """An OktaClient acting with the admin's own delegated token from ``cred``
    (refreshed before expiry and once after a 401; ``on_refresh`` receives the
    new tokens to store). No single wait longer than ``ADMIN_MAX_WAIT_SECONDS``:
    past it the admin is told how long Okta asks to wait
    (OktaRateLimited.retry_after). Raises TokenDecryptionError when the stored
    tokens cannot be decrypted."""
    return OktaClient(
        settings.OKTA_ORG_URL,
        _console_token_source(
            cred.access_token,
            cred.refresh_token,
            cred.access_expires_at,
            cred.scopes,
            on_refresh=on_refresh,
        ),
        share=settings.OKTA_RATE_LIMIT_SHARE,
        max_wait=ADMIN_MAX_WAIT_SECONDS,
    )


def sign_in_client(tokens: SignInTokens) -> OktaClient:
    """An OktaClient over the tokens of a sign-in in progress (nothing stored
    yet, so a refresh is kept in memory only)."""
    return OktaClient(
        settings.OKTA_ORG_URL,
        _console_token_source(
            tokens.access_token, tokens.refresh_token, tokens.expires_at, tokens.scope
        ),
        share=settings.OKTA_RATE_LIMIT_SHARE,
    )


def _console_token_source(
    access_token: str,
    refresh_token: str,
    expires_at: datetime | None,
    scope: str,
    on_refresh: Callable[[TokenSet], None] | None = None,
) -> UserTokenSource:
    return UserTokenSource(
        settings.OKTA_ORG_URL,
        settings.OKTA_CONSOLE_CLIENT_ID,
        settings.OKTA_CONSOLE_CLIENT_SECRET,
        access_token=access_token,
        refresh_token=refresh_token,
        expires_at=expires_at,
        on_refresh=on_refresh,
        scope=scope,
    )


def console_authorization_server(
    *, timeout: tuple[float, float] = REVOKE_TIMEOUT, attempts: int = 3
) -> OrgAuthorizationServer:
    """The console app (``OKTA_CONSOLE_CLIENT_ID``, client_secret_basic) at the
    Org Authorization Server. ``timeout``: (connect, read) seconds, short by
    default (revocations happen inside a web request); ``attempts``: requests
    per call at most."""
    return OrgAuthorizationServer(
        settings.OKTA_ORG_URL,
        settings.OKTA_CONSOLE_CLIENT_ID,
        settings.OKTA_CONSOLE_CLIENT_SECRET,
        timeout=timeout,
        attempts=attempts,
    )


class EnforcerUnavailable(ImproperlyConfigured):
    """The enforcer cannot be used here: not configured, or not a worker process."""


def allow_enforcer_in_this_process() -> None:
    """Mark this process as a Celery worker, the only kind that may load the
    enforcer's key (called by the worker's ``worker_init`` signal)."""
    global _enforcer_process
    _enforcer_process = True


def enforcer_configured() -> bool:
    """Whether the optional enforcer is switched on (``ENFORCER_CLIENT_ID`` is
    set). Reads no key: safe in any process."""
    return bool(settings.ENFORCER_CLIENT_ID)


def enforcer_client() -> OktaClient:
    """The enforcer's OktaClient: its Okta service app (``ENFORCER_CLIENT_ID``,
    ``private_key_jwt`` with the PEM key in the environment variable
    ``ENFORCER_PRIVATE_KEY``), scope ``okta.appGrants.manage``. One per
    process and org URL (its token is cached an hour).

    Raises EnforcerUnavailable outside a Celery worker process (the key is
    then not even read), or when the client id or the key is missing.
    """
    if not _enforcer_process:
        raise EnforcerUnavailable(
            "The enforcer's key is loaded only by a Celery worker, never by a "
            "web process."
        )
    client_id = settings.ENFORCER_CLIENT_ID
    key = os.environ.get("ENFORCER_PRIVATE_KEY", "").replace("\\n", "\n")
    if not (client_id and key):
        raise EnforcerUnavailable(
            "The enforcer is off: set ENFORCER_CLIENT_ID and ENFORCER_PRIVATE_KEY."
        )
    if settings.PRODUCTION:
        from grantsconsole.settings import private_key_is_demo

        if private_key_is_demo(key):
            raise EnforcerUnavailable(
                "ENFORCER_PRIVATE_KEY is the demo org's key; production refuses it."
            )
    org_url = settings.OKTA_ORG_URL
    cache_key = (os.getpid(), org_url, "enforcer:" + client_id)
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            source = ServiceAppTokenSource(
                org_url,
                client_id,
                key,
                key_id=settings.ENFORCER_KEY_ID or None,
                scopes=list(ENFORCER_SCOPES),
            )
            client = _clients[cache_key] = OktaClient(
                org_url,
                source,
                share=settings.OKTA_RATE_LIMIT_SHARE,
                pacer=_pacer(org_url, client_id),
            )
        return client
