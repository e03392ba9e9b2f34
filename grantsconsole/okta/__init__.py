"""Okta management API client for grantsconsole (plain Python, no Django).

Public API::

    from grantsconsole.okta import OktaClient, ServiceAppTokenSource
    client = OktaClient(org_url, ServiceAppTokenSource(org_url, client_id, pem,
                        scopes=["okta.apps.read", "okta.appGrants.read"]))
    for app in client.iter_oidc_apps():
        grants = client.list_grants(app.id)

Modules: ``client`` (the calls), ``transport`` (one request: pacing, auth,
retries, typed errors), ``pacing`` (rate-limit buckets, share, clock),
``redis_pacer`` (the same pacing shared by processes through Redis),
``tokens`` (token sources and the Org Authorization Server's token and
revocation endpoints), ``models`` (value objects and parsers), ``errors``,
``links`` (Link headers, same-origin rule), ``scopes`` (the scope catalog) and
``build_catalog`` (regenerates ``scopes.json``).
"""

from . import scopes as scope_catalog
from .client import OktaClient
from .errors import (
    OktaConnectionError,
    OktaError,
    OktaForeignLink,
    OktaInsufficientScope,
    OktaMalformedResponse,
    OktaNotFound,
    OktaPermissionDenied,
    OktaRateLimited,
    OktaServerError,
    OktaTimeout,
    OktaTokenRefused,
    OktaUnauthorized,
    OktaValidationError,
)
from .models import (
    App,
    Grant,
    GrantResult,
    LogEvent,
    LogPage,
    LogTarget,
    RefreshToken,
    RevokeResult,
    Role,
    SkippedApp,
    TokensRevoked,
    UnreadableEvent,
    User,
)
from .pacing import Clock, LocalPacer, Pacer, SystemClock, shared_pacer
from .redis_pacer import RedisPacer
from .scopes import ScopeInfo
from .tokens import (
    OrgAuthorizationServer,
    ServiceAppTokenSource,
    SswsTokenSource,
    TokenSet,
    TokenSource,
    UserTokenSource,
)

__all__ = [
    "App",
    "Clock",
    "Grant",
    "GrantResult",
    "LocalPacer",
    "LogEvent",
    "LogPage",
    "LogTarget",
    "OktaClient",
    "OktaConnectionError",
    "OktaError",
    "OktaForeignLink",
    "OktaInsufficientScope",
    "OktaMalformedResponse",
    "OktaNotFound",
    "OktaPermissionDenied",
    "OktaRateLimited",
    "OktaServerError",
    "OktaTimeout",
    "OktaTokenRefused",
    "OktaUnauthorized",
    "OktaValidationError",
    "OrgAuthorizationServer",
    "Pacer",
    "RedisPacer",
    "RefreshToken",
    "RevokeResult",
    "Role",
    "ScopeInfo",
    "ServiceAppTokenSource",
    "SkippedApp",
    "SswsTokenSource",
    "SystemClock",
    "TokenSet",
    "TokenSource",
    "TokensRevoked",
    "UnreadableEvent",
    "User",
    "UserTokenSource",
    "scope_catalog",
    "shared_pacer",
]
