"""Typed errors for Okta API calls.

Every error carries what Okta sent back (Okta API reference, "Error response" in
the Core Okta API docs: ``errorCode``, ``errorSummary``, ``errorId``,
``errorCauses``) plus the HTTP status and the ``X-Okta-Request-Id`` header, and a
plain-words ``explanation`` an admin can act on. No error ever holds a token, an
assertion, a key or a client secret: messages are built only from Okta's error
body, the request method and path, and our own wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
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
    "WwwAuthenticate",
    "describe",
    "parse_www_authenticate",
]


class OktaError(Exception):
    """Base of every error raised by :mod:`grantsconsole.okta`.

    Attributes (all strings default to ""):
      status: HTTP status (int) or None when no response arrived.
      error_code: Okta ``errorCode`` (e.g. "E0000006") or the OAuth ``error``.
      error_summary: Okta ``errorSummary`` or the OAuth ``error_description``.
      error_id: Okta ``errorId`` (per-request id, "oae...").
      request_id: the ``X-Okta-Request-Id`` response header.
      error_causes: tuple of ``errorCauses[].errorSummary`` strings.
      method, path: the request that failed (path without query string).
      explanation: plain words for an admin: what happened, what to do.
    """

    default_explanation = "Okta returned an error."

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        error_code: str = "",
        error_summary: str = "",
        error_id: str = "",
        request_id: str = "",
        error_causes: tuple[str, ...] = (),
        method: str = "",
        path: str = "",
        explanation: str = "",
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.error_summary = error_summary
        self.error_id = error_id
        self.request_id = request_id
        self.error_causes = tuple(error_causes)
        self.method = method
        self.path = path
        self.explanation = explanation or self.default_explanation
        super().__init__(message or error_summary or self.explanation)

    def __str__(self) -> str:
        parts = [str(self.args[0]) if self.args else self.explanation]
        if self.method or self.path:
            parts.append(f"[{self.method} {self.path}]".replace("[ ", "["))
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.error_code:
            parts.append(f"errorCode={self.error_code}")
        if self.error_id:
            parts.append(f"errorId={self.error_id}")
        if self.request_id:
            parts.append(f"X-Okta-Request-Id={self.request_id}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


def describe(error: OktaError, explanation: str = "") -> str:
    """A one-line, secret-free description of an Okta error for the UI, the
    stored sync and app errors, and logs: ``explanation`` (default: the error's
    own) and the facts Okta gave (HTTP status, errorCode, request id)."""
    bits = [explanation or error.explanation]
    facts = []
    if error.status is not None:
        facts.append(f"HTTP {error.status}")
    if error.error_code:
        facts.append(f"errorCode {error.error_code}")
    if error.request_id:
        facts.append(f"request {error.request_id}")
    if facts:
        bits.append(f"({', '.join(facts)})")
    return " ".join(bits)


class OktaUnauthorized(OktaError):
    """401: the token or API token was rejected (expired, revoked, wrong audience).

    Raised only after the token source had its one chance to refresh.
    """

    default_explanation = (
        "Okta did not accept the credentials (the access token or API token is "
        "expired, revoked or not meant for this org). Sign in again, or check the "
        "service app's key and client id."
    )


class OktaTokenRefused(OktaUnauthorized):
    """The Org Authorization Server's token endpoint refused the request (400/401).

    ``error_code`` and ``error_summary`` hold Okta's OAuth ``error`` and
    ``error_description`` as sent. ``problem`` sorts the refusal for health
    checks: "scope" (``invalid_scope``: none of the requested scopes may be
    issued, e.g. none is in the app's grant collection), "key_id"
    (``invalid_client`` about the assertion's ``kid``; Okta answers "The
    client_assertion JWT kid is invalid." when no public key of the app has that
    id), "client" (any other ``invalid_client``: unknown or inactive client,
    wrong key, bad assertion) or "other".
    """

    _EXPLANATIONS = {
        "scope": (
            "Okta refused to issue a token: none of the scopes the app asks for may "
            "be issued to it. Grant them to the app in its Okta API Scopes tab."
        ),
        "key_id": (
            "Okta does not know the key id (kid) of the app's client assertion. Set "
            "the kid of the public key registered on the app (OKTA_WORKER_KEY_ID), "
            "or register the public key of the configured private key."
        ),
        "client": (
            "Okta did not accept the app's client credentials: check the client id, "
            "that the app is active, and that its registered public key matches the "
            "private key in use."
        ),
    }

    def __init__(self, message: str = "", **kw: object) -> None:
        kw.setdefault("explanation", self._EXPLANATIONS.get(self._problem_of(kw), ""))
        super().__init__(message, **kw)  # type: ignore[arg-type]

    @staticmethod
    def _problem_of(kw: dict[str, object]) -> str:
        code = str(kw.get("error_code") or "")
        if code == "invalid_scope":
            return "scope"
        if code == "invalid_client":
            # Okta's error is the same for every client problem; only its
            # description tells a key id problem apart.
            summary = str(kw.get("error_summary") or "")
            return "key_id" if re.search(r"\bkid\b", summary) else "client"
        return "other"

    @property
    def problem(self) -> str:
        return self._problem_of(
            {"error_code": self.error_code, "error_summary": self.error_summary}
        )


class OktaInsufficientScope(OktaError):
    """403 with ``WWW-Authenticate: ... error="insufficient_scope"``.

    ``scope`` names the Okta API scope the token lacks (from the header's
    ``scope`` parameter), e.g. "okta.appGrants.manage"; "" if Okta did not say.
    """

    def __init__(self, message: str = "", *, scope: str = "", **kw: object) -> None:
        self.scope = scope
        kw.setdefault(
            "explanation",
            (
                f"The access token does not carry the Okta API scope '{scope}'. "
                f"Grant '{scope}' to the app in its Okta API Scopes tab, then sign "
                "in again (or let the service app fetch a new token) so the new "
                "token includes it."
                if scope
                else "The access token does not carry an Okta API scope this call "
                "needs. Grant the scope to the app, then obtain a new token."
            ),
        )
        super().__init__(message, **kw)  # type: ignore[arg-type]


class OktaPermissionDenied(OktaError):
    """403 without an insufficient-scope challenge (E0000006, E0000005, ...).

    The usual cause is Okta's silent downscoping: the org authorization server
    puts every requested scope that the app holds into the token whatever the
    user's admin role, and only the API call itself checks the role.
    """

    default_explanation = (
        "Okta refused the action although the token carries the needed scope. "
        "Okta issues a scope to anyone who signs in to an app that holds it, and "
        "only checks the person's admin role when the call is made (silent "
        "downscoping). The signed-in user (or the service app) does not have an "
        "admin role that allows this; granting or revoking Okta API scopes needs a "
        "Super Admin."
    )


class OktaNotFound(OktaError):
    """404 (E0000007): the app, grant or user does not exist (any more)."""

    default_explanation = "Okta says the app, grant or user does not exist (any more)."


class OktaValidationError(OktaError):
    """400/405/409/411/422: Okta rejected the request as invalid (E0000001 etc.).

    The explanation quotes Okta's own reason (``errorCauses``, else
    ``errorSummary``), e.g. for a scopeId Okta does not know: "Okta rejected the
    request as invalid: scopeId: The scope okta.x.read is not a valid Okta API
    scope." Okta, not the console's catalog, is the judge of scope names.
    """

    default_explanation = "Okta rejected the request as invalid."

    def __init__(self, message: str = "", **fields: Any) -> None:
        if not fields.get("explanation"):
            reasons = [c for c in fields.get("error_causes", ()) if c] or [
                fields.get("error_summary", "")
            ]
            reason = " ".join(r.strip() for r in reasons if r and r.strip())
            if reason:
                fields["explanation"] = f"{self.default_explanation[:-1]}: {reason}"
        super().__init__(message, **fields)


class OktaRateLimited(OktaError):
    """429 (E0000047) after the bounded retries, or for a request not repeated.

    ``retry_after`` is the number of seconds (float, >= 0) until Okta's window
    resets by its own clock (``X-Rate-Limit-Reset`` minus ``Date``), or None when
    the headers were missing/garbled; ``concurrency`` is True for a
    concurrent-request limit (``X-Rate-Limit-Limit: 0``).
    """

    def __init__(
        self,
        message: str = "",
        *,
        retry_after: float | None = None,
        concurrency: bool = False,
        **kw: object,
    ) -> None:
        self.retry_after = retry_after
        self.concurrency = concurrency
        wait = f"about {retry_after:.0f} s" if retry_after is not None else "a minute"
        kw.setdefault(
            "explanation",
            f"Okta's rate limit for this kind of call is used up (other tools in the "
            f"org share it). Try again in {wait}.",
        )
        super().__init__(message, **kw)  # type: ignore[arg-type]


class OktaServerError(OktaError):
    """5xx from Okta (after bounded retries for requests safe to repeat)."""

    default_explanation = "Okta had an internal error. Try again shortly."


class OktaTimeout(OktaError):
    """No answer within the connect or read timeout (after bounded retries)."""

    default_explanation = "Okta did not answer in time. Try again shortly."


class OktaConnectionError(OktaError):
    """The connection to Okta failed (DNS, refused, reset) after bounded retries."""

    default_explanation = "Could not reach Okta. Check the network and the org URL."


class OktaMalformedResponse(OktaError):
    """The response body was not what the Okta API reference describes.

    Never turned into an empty result: a body we cannot read is an error.
    """

    default_explanation = (
        "Okta's answer could not be read (unexpected format). Nothing was assumed "
        "from it; try again, and report it if it persists."
    )


class OktaForeignLink(OktaMalformedResponse):
    """A ``Link: rel="next"`` (or stored cursor) points outside the org URL.

    Following it would send our token to another scheme, host or port.
    """

    default_explanation = (
        "Okta's paging link pointed to another host; it was not followed so that "
        "no credentials leave the Okta org."
    )


@dataclass(frozen=True, slots=True)
class WwwAuthenticate:
    """One parsed ``WWW-Authenticate`` challenge (RFC 6750 / RFC 9449 DPoP)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str:
        return self.params.get("error", "")

    @property
    def scope(self) -> str:
        return self.params.get("scope", "")


_PARAM = re.compile(
    r'\s*([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?'
)
_SCHEME = re.compile(r"\s*,?\s*([A-Za-z][\w-]*)(?=\s+[A-Za-z_][\w-]*\s*=|\s*$|\s*,)")


def parse_www_authenticate(value: str) -> list[WwwAuthenticate]:
    """Parse a ``WWW-Authenticate`` header into challenges.

    Handles Okta's Bearer form and the newer DPoP form (okta-api.md §7.7), e.g.
    ``DPoP algs="RS256 ES256", realm="...", scope="okta.policies.read",
    error="insufficient_scope"`` and several challenges joined by commas.
    Returns [] for an empty or unreadable value (never raises).
    """
    challenges: list[WwwAuthenticate] = []
    pos = 0
    text = value or ""
    current: WwwAuthenticate | None = None
    while pos < len(text):
        param = _PARAM.match(text, pos)
        if param and current is not None:
            name = param.group(1).lower()
            raw = param.group(2) if param.group(2) is not None else param.group(3)
            current.params[name] = re.sub(r"\\(.)", r"\1", raw or "")
            pos = param.end()
            continue
        scheme = _SCHEME.match(text, pos)
        if not scheme:
            break
        current = WwwAuthenticate(scheme=scheme.group(1), params={})
        challenges.append(current)
        pos = scheme.end()
    return challenges
