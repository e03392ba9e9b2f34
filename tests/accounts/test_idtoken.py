"""ID token validation against a JWKS served over real HTTP (a tiny local server).

Every kind of bad token the callback must refuse: unsigned, signed by another
key, wrong issuer, wrong audience, expired, wrong or missing nonce, and a
step-up whose auth_time is too old.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from grantsconsole.accounts.idtoken import IdTokenInvalid, validate_id_token

ISSUER = "https://example.okta.com"
CLIENT_ID = "0oa1consoleDEMO000x7"
NONCE = "n-0S6_WzA2Mj"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


ORG_KEY = _key()
OTHER_KEY = _key()
KID = "org-key-1"


@pytest.fixture(scope="module")
def jwks_uri() -> Iterator[str]:
    jwk = RSAAlgorithm.to_jwk(ORG_KEY.public_key(), as_dict=True)
    body = json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/oauth2/v1/keys"
    server.shutdown()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "00u1superDEMO0000x7",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now - 10,
        "nonce": NONCE,
    }
    # A callable override is relative to the moment of signing (not of collection,
    # which may be many minutes earlier in a long run).
    claims.update({k: v(now) if callable(v) else v for k, v in overrides.items()})
    return {k: v for k, v in claims.items() if v is not None}


def _sign(claims: dict[str, Any], key: Any = ORG_KEY, kid: str = KID) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _validate(raw: str, jwks_uri: str, **kw: Any) -> dict[str, Any]:
    return validate_id_token(
        raw,
        jwks_uri=jwks_uri,
        issuer=ISSUER,
        client_id=CLIENT_ID,
        nonce=kw.pop("nonce", NONCE),
        **kw,
    )


def test_valid_token_returns_claims(jwks_uri: str) -> None:
    claims = _validate(_sign(_claims()), jwks_uri)
    assert claims["sub"] == "00u1superDEMO0000x7"


def _reason(raw: str, jwks_uri: str, **kw: Any) -> str:
    with pytest.raises(IdTokenInvalid) as info:
        _validate(raw, jwks_uri, **kw)
    assert "eyJ" not in str(info.value)  # never echoes a token
    return info.value.reason


def test_unsigned_token_is_refused(jwks_uri: str) -> None:
    raw = jwt.encode(_claims(), None, algorithm="none")
    assert _reason(raw, jwks_uri) == "unsigned"


def test_token_signed_by_another_key_is_refused(jwks_uri: str) -> None:
    assert _reason(_sign(_claims(), key=OTHER_KEY), jwks_uri) == "bad_signature"


def test_token_with_unknown_kid_is_refused(jwks_uri: str) -> None:
    raw = _sign(_claims(), key=OTHER_KEY, kid="attacker-key")
    assert _reason(raw, jwks_uri) == "bad_signature"


def test_hs256_token_is_refused(jwks_uri: str) -> None:
    raw = jwt.encode(_claims(), "secret" * 6, algorithm="HS256", headers={"kid": KID})
    assert _reason(raw, jwks_uri) == "bad_signature"


def test_tampered_payload_is_refused(jwks_uri: str) -> None:
    header, _, sig = _sign(_claims()).split(".")
    forged_payload = _sign(_claims(sub="00u1attacker")).split(".")[1]
    assert _reason(f"{header}.{forged_payload}.{sig}", jwks_uri) == "bad_signature"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://evil.example.com"}, "wrong_issuer"),
        ({"iss": ISSUER + "/oauth2/default"}, "wrong_issuer"),
        ({"aud": "0oa1someOtherApp00x7"}, "wrong_audience"),
        ({"aud": [CLIENT_ID, "0oa1other"]}, "wrong_audience"),
        ({"azp": "0oa1someOtherApp00x7"}, "wrong_audience"),
        ({"exp": lambda now: now - 120, "iat": lambda now: now - 3720}, "expired"),
        ({"iat": lambda now: now + 600}, "not_yet_valid"),
        ({"nonce": "another-sign-in"}, "nonce_mismatch"),
        ({"nonce": None}, "nonce_mismatch"),
        ({"sub": None}, "malformed"),
    ],
)
def test_bad_claims_are_refused(
    jwks_uri: str, overrides: dict[str, Any], reason: str
) -> None:
    assert _reason(_sign(_claims(**overrides)), jwks_uri) == reason


def test_empty_expected_nonce_never_matches(jwks_uri: str) -> None:
    assert _reason(_sign(_claims(nonce="")), jwks_uri, nonce="") == "nonce_mismatch"


def test_missing_token_is_refused(jwks_uri: str) -> None:
    assert _reason("", jwks_uri) == "missing"


def test_step_up_needs_recent_auth_time(jwks_uri: str) -> None:
    now = time.time()
    fresh = _sign(_claims(auth_time=int(now) - 30))
    assert _validate(fresh, jwks_uri, max_age=900)["auth_time"] == int(now) - 30
    stale = _sign(_claims(auth_time=int(now) - 3600))
    assert _reason(stale, jwks_uri, max_age=900) == "not_recent"
    assert (
        _reason(_sign(_claims(auth_time=None)), jwks_uri, max_age=900) == "not_recent"
    )


def test_unreachable_keys_fail_closed() -> None:
    reason = _reason(_sign(_claims()), "http://127.0.0.1:9/oauth2/v1/keys")
    assert reason == "keys_unavailable"
