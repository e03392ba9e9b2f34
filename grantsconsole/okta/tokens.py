"""Credentials for Okta's management API, behind one interface.

* :class:`UserTokenSource` - the signed-in admin's access token from the org
  authorization server, refreshed with the ``refresh_token`` grant shortly
  before it expires and once after a 401 (Okta API reference: "Implement OAuth
  for Okta", ``POST /oauth2/v1/token`` with ``grant_type=refresh_token``).
* :class:`ServiceAppTokenSource` - a service app's token by
  ``client_credentials`` with a ``private_key_jwt`` client assertion ("Implement
  OAuth for Okta with a service app"): assertion ``iss`` = ``sub`` = client id,
  ``aud`` = the token URL, ``exp`` 5 minutes ahead at most, a fresh ``jti``, and a
  ``kid`` header. The token is cached until shortly before it expires and
  fetched again once after a 401, and once after a 403 ``insufficient_scope``
  (a scope granted after the token was minted is only in a new token).
* :class:`SswsTokenSource` - a legacy SSWS API token.
* :class:`OrgAuthorizationServer` - the token and revocation endpoints
  (``POST /oauth2/v1/token``, ``POST /oauth2/v1/revoke`` per RFC 7009) and the
  discovery document, as one OAuth client calls them, through the same
  :class:`~grantsconsole.okta.transport.Transport` as every API call.

No token, refresh token, client secret, assertion or key appears in any repr,
log line or exception raised here.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.utils import base64url_encode

from .errors import OktaMalformedResponse, OktaUnauthorized
from .pacing import Clock, LocalPacer, SystemClock
from .transport import Transport

__all__ = [
    "OrgAuthorizationServer",
    "ServiceAppTokenSource",
    "SswsTokenSource",
    "TokenSet",
    "TokenSource",
    "UserTokenSource",
    "jwk_thumbprint",
]

logger = logging.getLogger("grantsconsole.okta")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_TIMEOUT = (5.0, 30.0)
TOKEN_PATH = "/oauth2/v1/token"
REVOKE_PATH = "/oauth2/v1/revoke"
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class TokenSet:
    """Tokens from one token response, as handed to ``on_refresh``.

    ``expires_at`` is epoch seconds (UTC, local clock); ``scope`` the granted
    scopes, space-separated. Secrets are excluded from repr.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float
    scope: str
    id_token: str = field(default="", repr=False)
    token_type: str = "Bearer"


class TokenSource(ABC):
    """Supplies the ``Authorization`` header for Okta API calls.

    ``authorization()`` returns the header value (``"Bearer ..."`` or
    ``"SSWS ..."``), refreshing first if the cached token is about to expire.
    ``refresh_after_unauthorized(rejected)`` is called by the client at most once
    per API call after a 401 with the header value Okta rejected; it returns True
    when a different credential is now available (the client then retries once)
    and False when retrying cannot help. ``refresh_after_insufficient_scope(rejected)``
    is the same after a 403 ``insufficient_scope``: True only when a new token
    carries more scopes than the rejected one (a scope was granted after that
    token was minted). ``granted_scopes()`` returns the Okta
    API scopes of the current token (empty for SSWS: not scope-limited).
    ``token_requests`` counts requests made to ``/oauth2/v1/token``.
    """

    token_requests: int = 0

    @abstractmethod
    def authorization(self) -> str: ...

    @abstractmethod
    def refresh_after_unauthorized(self, rejected: str) -> bool: ...

    @abstractmethod
    def granted_scopes(self) -> frozenset[str]: ...

    def refresh_after_insufficient_scope(self, rejected: str) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<credentials hidden>)"


class SswsTokenSource(TokenSource):
    """A legacy SSWS API token (``Authorization: SSWS <token>``); never refreshed."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an SSWS API token is required")
        self._token = token

    def authorization(self) -> str:
        return f"SSWS {self._token}"

    def refresh_after_unauthorized(self, rejected: str) -> bool:
        return False

    def granted_scopes(self) -> frozenset[str]:
        return frozenset()

    def __repr__(self) -> str:
        return "SswsTokenSource(token=<hidden>)"


class OrgAuthorizationServer:
    """The Org Authorization Server's token and revocation endpoints and its
    discovery document, as the OAuth client ``client_id`` calls them.

    Every request goes through a :class:`~grantsconsole.okta.transport.Transport`:
    its timeouts, its backoff and rate-limit waits, its error mapping. A request
    is sent ``attempts`` times at most, repeated after a 5xx, a timeout, a
    dropped connection or a 429 whose reset is at most ``max_wait`` seconds away
    (both are safe to repeat: each token request carries a new form, and a
    revocation is idempotent). ``client_secret``: the client authenticates with
    ``client_secret_basic``; without one it authenticates in the form itself
    (``private_key_jwt``). Refusals (400, 401, 403) raise OktaTokenRefused;
    other failures the transport's typed errors. ``requests_sent`` counts the
    HTTP requests made, repeats included.
    """

    def __init__(
        self,
        org_url: str,
        client_id: str,
        client_secret: str = "",
        *,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        attempts: int = 3,
        max_wait: float = 10.0,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.client_id = client_id
        self._auth = (client_id, client_secret) if client_secret else None
        clock = clock or SystemClock()
        self.transport = Transport(
            self.org_url,
            None,
            pacer=LocalPacer(clock=clock),
            clock=clock,
            session=session,
            timeout=timeout,
            max_retries=max(0, attempts - 1),
            max_rate_limit_wait=max_wait,
        )

    def __repr__(self) -> str:
        return f"OrgAuthorizationServer(client_id={self.client_id!r})"

    @property
    def token_url(self) -> str:
        return self.org_url + TOKEN_PATH

    @property
    def requests_sent(self) -> int:
        return self.transport.request_count

    def token(self, form: Callable[[], dict[str, str]]) -> dict[str, Any]:
        """``POST /oauth2/v1/token`` with the form ``form()`` builds (called
        once per attempt); returns the token response, a dict whose
        ``access_token`` is a string. A 200 without one raises
        OktaMalformedResponse."""
        response = self.transport.request(
            "POST", TOKEN_PATH, form=form, auth=self._auth, retry_safe=True
        )
        body = response.body
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise OktaMalformedResponse(
                "token response without access_token",
                status=response.status,
                request_id=response.request_id,
                method="POST",
                path=TOKEN_PATH,
            )
        return body

    def openid_configuration(self) -> dict[str, Any]:
        """``GET /.well-known/openid-configuration``: the Org Authorization
        Server's discovery document (``issuer``, endpoint URLs). A body that is
        not a JSON object raises OktaMalformedResponse."""
        response = self.transport.request("GET", DISCOVERY_PATH, retry_safe=True)
        if not isinstance(response.body, dict):
            raise OktaMalformedResponse(
                "discovery document is not a JSON object",
                status=response.status,
                request_id=response.request_id,
                method="GET",
                path=DISCOVERY_PATH,
            )
        return response.body

    def revoke(self, token: str, token_type_hint: str) -> None:
        """``POST /oauth2/v1/revoke`` (RFC 7009): end ``token``
        (``token_type_hint``: "access_token" or "refresh_token"). Okta answers
        200 for a token that is already revoked, expired or unknown too.
        Revoking a refresh token also ends the access tokens minted from it."""
        self.transport.request(
            "POST",
            REVOKE_PATH,
            form=lambda: {"token": token, "token_type_hint": token_type_hint},
            auth=self._auth,
            retry_safe=True,
        )


def _to_epoch(value: datetime | float | int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware (UTC)")
        return value.timestamp()
    return float(value)


def _scope_set(scope: str | Iterable[str] | None) -> frozenset[str]:
    if not scope:
        return frozenset()
    if isinstance(scope, str):
        return frozenset(scope.split())
    return frozenset(scope)


class _OAuthTokenSource(TokenSource):
    """Shared plumbing: the token endpoint, locking and timing."""

    #: never reuse a token this close (seconds) to its expiry
    refresh_margin = 60.0
    #: a token fetched this recently and still rejected is not fetched again
    min_refetch_interval = 5.0

    def __init__(
        self,
        org_url: str,
        client_id: str,
        client_secret: str = "",
        *,
        clock: Clock | None,
        session: requests.Session | None,
        timeout: tuple[float, float],
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.clock: Clock = clock or SystemClock()
        self.authorization_server = OrgAuthorizationServer(
            org_url,
            client_id,
            client_secret,
            clock=self.clock,
            session=session,
            timeout=timeout,
        )
        self.token_url = self.authorization_server.token_url
        self._lock = threading.RLock()
        self._access_token = ""
        self._expires_at: float | None = None
        self._fetched_at: float | None = None
        self._scope: frozenset[str] | None = None

    @property
    def token_requests(self) -> int:  # type: ignore[override]
        return self.authorization_server.requests_sent

    def _store(self, body: dict[str, Any]) -> None:
        now = self.clock.now()
        try:
            expires_in = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            expires_in = 3600.0
        self._access_token = body["access_token"]
        self._expires_at = now + expires_in
        self._fetched_at = now
        if isinstance(body.get("scope"), str):
            self._scope = _scope_set(body["scope"])

    def _needs_refresh(self) -> bool:
        if not self._access_token:
            return True
        if self._expires_at is None:
            return False
        return self.clock.now() >= self._expires_at - self.refresh_margin

    def _recently_fetched(self) -> bool:
        return (
            self._fetched_at is not None
            and self.clock.now() - self._fetched_at < self.min_refetch_interval
        )

    @property
    def expires_at(self) -> float | None:
        """Epoch seconds (local clock) when the current token expires, if known."""
        return self._expires_at


class ServiceAppTokenSource(_OAuthTokenSource):
    """Org-AS token for a service app: client_credentials + private_key_jwt.

    ``private_key_pem``: PEM of the app's RSA or EC private key (PKCS#1/PKCS#8,
    unencrypted). ``key_id``: the ``kid`` of the matching public JWK registered
    on the app; if None, the RFC 7638 SHA-256 thumbprint of the public key.
    ``scopes``: Okta API scopes to request. ``assertion_lifetime``: seconds the
    assertion is valid (at most 300). Raises ValueError for an unreadable key.
    Token errors raise OktaUnauthorized / OktaRateLimited / OktaServerError /
    OktaTimeout / OktaConnectionError / OktaMalformedResponse; a refusal by
    the token endpoint (``invalid_scope``, ``invalid_client``) is the
    OktaUnauthorized subclass OktaTokenRefused.
    """

    def __init__(
        self,
        org_url: str,
        client_id: str,
        private_key_pem: str | bytes,
        key_id: str | None = None,
        scopes: Iterable[str] = ("okta.apps.read", "okta.appGrants.read"),
        *,
        assertion_lifetime: float = 300.0,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        if not client_id:
            raise ValueError("client_id is required")
        super().__init__(
            org_url, client_id, clock=clock, session=session, timeout=timeout
        )
        self.client_id = client_id
        self.scopes = tuple(scopes)
        self.assertion_lifetime = min(float(assertion_lifetime), 300.0)
        pem = (
            private_key_pem.encode()
            if isinstance(private_key_pem, str)
            else private_key_pem
        )
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise ValueError("private_key_pem is not a readable private key") from None
        if isinstance(key, rsa.RSAPrivateKey):
            self._algorithm = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            self._algorithm = {256: "ES256", 384: "ES384", 521: "ES512"}[
                key.curve.key_size
            ]
        else:
            raise ValueError("private key must be RSA or EC")
        self._key = key
        self.key_id = key_id or jwk_thumbprint(key.public_key())

    def __repr__(self) -> str:
        return (
            f"ServiceAppTokenSource(client_id={self.client_id!r}, "
            f"key_id={self.key_id!r}, scopes={list(self.scopes)!r})"
        )

    def _assertion(self) -> str:
        # Okta checks iat/exp against its own (real) clock, so use the real time
        # here even when a test injects a fake clock for sleeping and expiry.
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "iat": now,
            "exp": now + int(self.assertion_lifetime),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims, self._key, algorithm=self._algorithm, headers={"kid": self.key_id}
        )

    def _fetch(self) -> None:
        body = self.authorization_server.token(
            lambda: {
                "grant_type": "client_credentials",
                "scope": " ".join(self.scopes),
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self._assertion(),  # a fresh jti per attempt
            }
        )
        self._store(body)
        logger.debug(
            "service app %s got an Okta token (expires in %.0f s, scopes %s)",
            self.client_id,
            (self._expires_at or 0) - self.clock.now(),
            " ".join(sorted(self._scope or ())),
        )

    def authorization(self) -> str:
        """``Bearer <token>``, fetching a token if none is cached or it is about
        to expire."""
        with self._lock:
            if self._needs_refresh():
                self._fetch()
            return f"Bearer {self._access_token}"

    def refresh_after_unauthorized(self, rejected: str) -> bool:
        """Fetch a new token after a 401 unless it was fetched moments ago."""
        with self._lock:
            if rejected != f"Bearer {self._access_token}":
                return True  # another thread already fetched a new one
            if self._recently_fetched():
                return False
            self._fetch()
            return True

    def refresh_after_insufficient_scope(self, rejected: str) -> bool:
        """Mint a new token after a 403 ``insufficient_scope``, unless the
        current one was fetched moments ago; True if the new token carries a
        scope the rejected one lacked. Okta puts only the scopes granted at
        minting time into a token, so a scope granted since reaches the worker
        only through a new token."""
        with self._lock:
            if rejected != f"Bearer {self._access_token}":
                return True  # another thread already fetched a new one
            if self._recently_fetched():
                return False
            before = self._scope
            self._fetch()
            return before is None or bool((self._scope or frozenset()) - before)

    def granted_scopes(self) -> frozenset[str]:
        """Scopes Okta put in the token (the response's ``scope``), fetching one
        if none is cached."""
        with self._lock:
            if self._needs_refresh():
                self._fetch()
            return self._scope if self._scope is not None else frozenset(self.scopes)


class UserTokenSource(_OAuthTokenSource):
    """The signed-in admin's org-AS access token, refreshed with ``refresh_token``.

    ``expires_at``: aware datetime or epoch seconds (None = unknown, then only a
    401 triggers a refresh). The token is refreshed when less than
    ``refresh_margin`` (60 s) is left, and once after a 401 (never in a loop: a
    token refreshed less than 5 s ago and still rejected is not refreshed
    again). ``on_refresh(TokenSet)`` is called after every refresh so the
    caller can encrypt and store the new tokens (Okta may rotate the refresh
    token); an exception it raises is logged (type only) and does not fail the
    call. The client authenticates with ``client_secret_basic``.
    A refused refresh raises OktaUnauthorized (the admin must sign in again).
    """

    def __init__(
        self,
        org_url: str,
        client_id: str,
        client_secret: str,
        access_token: str,
        refresh_token: str = "",
        expires_at: datetime | float | None = None,
        on_refresh: Callable[[TokenSet], None] | None = None,
        *,
        scope: str | Iterable[str] | None = None,
        clock: Clock | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            org_url,
            client_id,
            client_secret,
            clock=clock,
            session=session,
            timeout=timeout,
        )
        self.client_id = client_id
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._expires_at = _to_epoch(expires_at)
        self._scope = _scope_set(scope) if scope is not None else None
        self.on_refresh = on_refresh
        self.refreshes = 0

    def __repr__(self) -> str:
        return (
            f"UserTokenSource(client_id={self.client_id!r}, "
            f"expires_at={self._expires_at!r}, tokens=<hidden>)"
        )

    def _refresh(self) -> None:
        if not self._refresh_token:
            raise OktaUnauthorized(
                "the access token expired and there is no refresh token",
                explanation="Your Okta session for this console has expired. "
                "Sign in again.",
            )
        try:
            body = self.authorization_server.token(
                lambda: {
                    "grant_type": "refresh_token",
                    "refresh_token": self._refresh_token,
                }
            )
        except OktaUnauthorized as exc:
            exc.explanation = (
                "Okta refused to refresh your session (the refresh token expired "
                "or was revoked). Sign in again."
            )
            raise
        self._store(body)
        if isinstance(body.get("refresh_token"), str) and body["refresh_token"]:
            self._refresh_token = body["refresh_token"]
        self.refreshes += 1
        logger.debug(
            "refreshed the Okta token of client %s (expires in %.0f s)",
            self.client_id,
            (self._expires_at or 0) - self.clock.now(),
        )
        if self.on_refresh is not None:
            tokens = TokenSet(
                access_token=self._access_token,
                refresh_token=self._refresh_token,
                expires_at=self._expires_at or 0.0,
                scope=" ".join(sorted(self._scope or ())),
                id_token=str(body.get("id_token") or ""),
                token_type=str(body.get("token_type") or "Bearer"),
            )
            try:
                self.on_refresh(tokens)
            except Exception as exc:  # the call itself can still go ahead
                logger.warning(
                    "on_refresh callback failed (%s); new tokens kept in memory only",
                    type(exc).__name__,
                )

    def authorization(self) -> str:
        """``Bearer <token>``, refreshing first when it is about to expire."""
        with self._lock:
            expiring = self._needs_refresh() and bool(self._refresh_token)
            if expiring or not self._access_token:
                self._refresh()
            return f"Bearer {self._access_token}"

    def refresh_after_unauthorized(self, rejected: str) -> bool:
        """Refresh once after a 401; False when that cannot help."""
        with self._lock:
            if rejected != f"Bearer {self._access_token}":
                return True
            if not self._refresh_token or self._recently_fetched():
                return False
            self._refresh()
            return True

    def granted_scopes(self) -> frozenset[str]:
        """Scopes of the current token (from the sign-in or refresh response);
        refreshes once to learn them if unknown and a refresh token exists."""
        with self._lock:
            if self._scope is None and self._refresh_token:
                self._refresh()
            return self._scope or frozenset()


#: RFC 7638 section 3.2: the members a JWK thumbprint covers, per key type
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


def jwk_thumbprint(public_key: Any) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of an RSA or
    EC public key; the default ``kid`` of :class:`ServiceAppTokenSource`.
    Raises ValueError for another kind of key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        raise ValueError("only RSA and EC keys have a thumbprint here")
    # PyJWT builds the members (base64url, EC coordinates padded to the curve
    # size) but has no thumbprint; RFC 7638 hashes the required members only,
    # in lexicographic order, without whitespace.
    required = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True)
    return base64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()
