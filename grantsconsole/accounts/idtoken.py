"""ID token validation for the Org Authorization Server (OpenID Connect Core 3.1.3.7).

allauth 65.22.1 skips the signature when the ID token came from the token
endpoint and never sends or checks ``nonce``; this module does the full check
on every sign-in: RS256 signature against the org's JWKS (``/oauth2/v1/keys``,
fetched and cached by PyJWT's ``PyJWKClient``), ``iss`` exact match, ``aud`` (and
``azp``) equal to the console's client id, ``exp``/``iat`` with 60 s leeway,
``nonce`` equal to the one stored with the sign-in's ``state``, and for step-up
``auth_time`` no older than ``max_age``.
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any

import jwt
from jwt import PyJWKClient

LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256"]  # the only alg the org AS signs ID tokens with

_clients: dict[str, PyJWKClient] = {}
_clients_lock = threading.Lock()


class IdTokenInvalid(Exception):
    """The ID token failed a check. ``reason`` is a stable code for pages and audit:
    missing | unsigned | bad_signature | keys_unavailable | wrong_issuer |
    wrong_audience | expired | not_yet_valid | malformed | nonce_mismatch |
    not_recent. The message never contains the token.
    """

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def _jwk_client(jwks_uri: str) -> PyJWKClient:
    with _clients_lock:
        client = _clients.get(jwks_uri)
        if client is None:
            client = PyJWKClient(
                jwks_uri,
                cache_jwk_set=True,
                lifespan=300,
                timeout=10,
                cooldown_duration=0,
            )
            _clients[jwks_uri] = client
        return client


def _signing_key(raw: str, jwks_uri: str, *, refresh: bool) -> Any:
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.DecodeError:
        raise IdTokenInvalid("malformed", "The ID token is not a JWT.") from None
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none":
        raise IdTokenInvalid("unsigned", "The ID token is not signed (alg none).")
    if alg not in ALGORITHMS:
        raise IdTokenInvalid(
            "bad_signature", f"The ID token uses alg {alg}, not RS256."
        )
    kid = header.get("kid")
    if not kid:
        raise IdTokenInvalid("bad_signature", "The ID token header names no key (kid).")
    client = _jwk_client(jwks_uri)
    try:
        if refresh:
            keys = client.get_jwk_set(refresh=True).keys
            for key in keys:
                if key.key_id == kid:
                    return key.key
            raise IdTokenInvalid(
                "bad_signature", "The ID token's key is not among the org's keys."
            )
        return client.get_signing_key(kid).key
    except jwt.PyJWKClientConnectionError:
        raise IdTokenInvalid(
            "keys_unavailable", "The org's signing keys could not be fetched."
        ) from None
    except jwt.PyJWKClientError:
        raise IdTokenInvalid(
            "bad_signature", "The ID token's key is not among the org's keys."
        ) from None


def validate_id_token(
    raw: str,
    *,
    jwks_uri: str,
    issuer: str,
    client_id: str,
    nonce: str,
    max_age: int | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Return the verified claims of ``raw`` or raise :class:`IdTokenInvalid`.

    ``issuer`` is the org URL (Org Authorization Server issuer, no trailing
    slash); ``nonce`` the value sent on ``/oauth2/v1/authorize``; ``max_age``
    (seconds) requires ``auth_time`` no older than that (step-up); ``now`` is a
    UNIX time in seconds (default: the current time).
    """
    if not raw:
        raise IdTokenInvalid("missing", "Okta returned no ID token.")
    now = time.time() if now is None else now
    claims: dict[str, Any] | None = None
    for refresh in (False, True):
        key = _signing_key(raw, jwks_uri, refresh=refresh)
        try:
            claims = jwt.decode(
                raw,
                key=key,
                algorithms=ALGORITHMS,
                audience=client_id,
                issuer=issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
            break
        except jwt.InvalidSignatureError:
            if refresh:  # a rotated key was tried too
                raise IdTokenInvalid(
                    "bad_signature", "The ID token's signature does not verify."
                ) from None
        except jwt.InvalidIssuerError:
            raise IdTokenInvalid(
                "wrong_issuer", f"The ID token was not issued by {issuer}."
            ) from None
        except jwt.InvalidAudienceError:
            raise IdTokenInvalid(
                "wrong_audience", "The ID token was issued to another client."
            ) from None
        except jwt.ExpiredSignatureError:
            raise IdTokenInvalid("expired", "The ID token has expired.") from None
        except jwt.ImmatureSignatureError:
            raise IdTokenInvalid(
                "not_yet_valid", "The ID token is not valid yet (iat/nbf)."
            ) from None
        except jwt.InvalidTokenError as e:
            raise IdTokenInvalid(
                "malformed", f"The ID token is invalid: {type(e).__name__}."
            ) from None
    assert claims is not None
    azp = claims.get("azp")
    if azp is not None and azp != client_id:
        raise IdTokenInvalid("wrong_audience", "The ID token's azp is another client.")
    if isinstance(claims["aud"], list) and len(claims["aud"]) > 1 and azp is None:
        raise IdTokenInvalid("wrong_audience", "The ID token has several audiences.")
    got_nonce = claims.get("nonce")
    if (
        not nonce
        or not isinstance(got_nonce, str)
        or not hmac.compare_digest(got_nonce.encode(), nonce.encode())
    ):
        raise IdTokenInvalid(
            "nonce_mismatch", "The ID token's nonce is not the one this sign-in sent."
        )
    if max_age is not None:
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int | float) or now - auth_time > (
            max_age + LEEWAY_SECONDS
        ):
            raise IdTokenInvalid(
                "not_recent",
                "Okta did not ask you to sign in again (auth_time is too old).",
            )
    return claims
