"""One Okta API request, done right: pacing, auth, bounded retries, typed errors.

Policy (documented for ASVS 13.1.3; numbers are constructor arguments of
:class:`Transport`):

* Every request goes through the pacer first and feeds it the rate-limit
  headers of every response.
* Connect and read timeouts on every request (default 5 s / 30 s).
* 401: the token source may refresh once per call; then the request is sent
  again (a 401 means Okta did nothing, so this is safe for any method).
* 403 ``insufficient_scope``: likewise once per call, when the token source
  can mint a token with more scopes (one granted after the cached token was
  minted).
* Requests safe to repeat (GET, DELETE of one resource by id, token and
  revocation requests) are retried at most ``max_retries`` times on 429, 5xx,
  timeouts and connection errors:
  a 429 waits until Okta's reset (``X-Rate-Limit-Reset`` minus ``Date``) plus
  one second plus up to ``jitter`` seconds; a concurrency 429 (Limit 0) or
  missing, garbled or duplicated headers wait a capped exponential backoff
  with jitter (base ``backoff_base``, cap ``max_backoff``). A 429 whose reset is
  more than ``max_rate_limit_wait`` seconds away is not waited for. Retries
  carry ``X-Okta-Retry-For`` (the first response's ``X-Okta-Request-Id``) and
  ``X-Okta-Retry-Count``.
* Other POSTs are never repeated here; their callers read back first.
* The Org Authorization Server's token and revocation endpoints and its
  discovery document go through the same class, with a form body and the
  client's own authentication instead of a token source; token and revocation
  refusals (400/401/403) are typed OktaTokenRefused.
* Every string of a JSON body is text a database can store (:func:`storable_text`):
  odd data from Okta never stops a sync.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import HTTPError, ReadTimeoutError

from .errors import (
    OktaConnectionError,
    OktaError,
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
    parse_www_authenticate,
)
from .links import parse_links
from .pacing import Clock, Pacer, RateLimitInfo, bucket_for, parse_rate_limit_headers

if TYPE_CHECKING:
    from .tokens import TokenSource

__all__ = ["OktaResponse", "Transport", "error_from_response"]

logger = logging.getLogger("grantsconsole.okta")

USER_AGENT = "grantsconsole-okta/0.1 python-requests"
#: OAuth endpoints whose refusals are OAuth errors (RFC 6749 5.2, RFC 7009 2.2.1),
#: unlike the management API under /oauth2/v1/clients
OAUTH_ENDPOINTS = frozenset({"/oauth2/v1/token", "/oauth2/v1/revoke"})


@dataclass(frozen=True, slots=True)
class OktaResponse:
    """A successful (2xx) Okta response.

    ``body`` is the parsed JSON (None for 204); ``links`` maps rel -> URL from
    the ``Link`` headers; ``request_id`` is ``X-Okta-Request-Id`` ("" if absent).
    """

    status: int
    headers: CaseInsensitiveDict
    body: Any
    request_id: str
    links: dict[str, str]
    url: str


# JSON escapes of characters no database column holds: NUL, and UTF-16
# surrogates (a valid pair is one character once decoded; a lone one is not).
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """``value`` with each character no database can store replaced by its
    escape ``\\u`` plus four hex digits (six characters, shown literally): NUL, which
    PostgreSQL refuses in text and jsonb, and lone UTF-16 surrogates such as
    ``\\ud800``, which are not Unicode (UTF-8 cannot encode them, so neither
    SQLite nor PostgreSQL takes them). Other text is returned unchanged."""
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {storable_text(k): _storable(v) for k, v in value.items()}
    return value


def decode_json(content: bytes) -> Any:
    """Okta's JSON body, every string made :func:`storable_text` (the walk
    only happens when the raw body has such an escape, so rarely). Raises
    ValueError for a body that is not JSON."""
    body = json.loads(content)
    if _UNSTORABLE_ESCAPE.search(content):
        body = _storable(body)
    return body


def _json_or_none(content: bytes) -> Any:
    if not content:
        return None
    try:
        return decode_json(content)
    except ValueError:
        return None


class _BodyError(Exception):
    """The body could not be read within the size/time caps."""

    def __init__(self, message: str, *, too_slow: bool) -> None:
        super().__init__(message)
        self.too_slow = too_slow


def error_from_response(
    response: requests.Response, method: str, path: str, content: bytes = b""
) -> OktaError:
    """Build the typed error for a non-2xx Okta response (never raises).

    403 with a ``WWW-Authenticate`` challenge carrying
    ``error="insufficient_scope"`` (Bearer or DPoP form) becomes
    OktaInsufficientScope naming the scope; other 403s OktaPermissionDenied.
    From the Org Authorization Server's token and revoke endpoints
    (:data:`OAUTH_ENDPOINTS`), 400, 401 and 403 are OktaTokenRefused carrying
    Okta's OAuth ``error`` and ``error_description``.
    """
    status = response.status_code
    body = _json_or_none(content)
    fields: dict[str, Any] = {
        "status": status,
        "request_id": response.headers.get("X-Okta-Request-Id", ""),
        "method": method,
        "path": path,
    }
    if isinstance(body, dict):
        fields["error_code"] = str(body.get("errorCode") or body.get("error") or "")
        fields["error_summary"] = str(
            body.get("errorSummary") or body.get("error_description") or ""
        )
        fields["error_id"] = str(body.get("errorId") or "")
        causes = body.get("errorCauses")
        if isinstance(causes, list):
            fields["error_causes"] = tuple(
                str(c.get("errorSummary", "")) for c in causes if isinstance(c, dict)
            )
    if path in OAUTH_ENDPOINTS and status in (400, 401, 403):
        code = fields.get("error_code") or status
        summary = fields.get("error_summary", "")
        return OktaTokenRefused(
            f"{path} refused the request: {code}"
            + (f" ({summary})" if summary else ""),
            **fields,
        )
    challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate", ""))
    challenge_error = next((c.error for c in challenges if c.error), "")
    if status == 401:
        if challenge_error and not fields.get("error_code"):
            fields["error_code"] = challenge_error
        return OktaUnauthorized(**fields)
    if status == 403:
        scoped = [c for c in challenges if c.error == "insufficient_scope"]
        if scoped:
            fields.setdefault("error_code", "insufficient_scope")
            if not fields.get("error_summary"):
                fields["error_summary"] = scoped[0].params.get(
                    "error_description", "insufficient scope"
                )
            scope = next((c.scope for c in scoped if c.scope), "")
            return OktaInsufficientScope(
                f"the access token lacks the Okta API scope '{scope}'" if scope else "",
                scope=scope,
                **fields,
            )
        return OktaPermissionDenied(**fields)
    if status == 404:
        return OktaNotFound(**fields)
    if status == 429:
        info = parse_rate_limit_headers(response.headers)
        return OktaRateLimited(
            retry_after=info.seconds_to_reset(), concurrency=info.concurrency, **fields
        )
    if status >= 500:
        return OktaServerError(**fields)
    if 400 <= status < 500:
        return OktaValidationError(**fields)
    return OktaMalformedResponse(f"unexpected HTTP status {status}", **fields)


class Transport:
    """Sends Okta requests for :class:`~grantsconsole.okta.client.OktaClient`
    and for the Org Authorization Server (:mod:`grantsconsole.okta.tokens`).

    ``token_source``: where the ``Authorization`` header comes from; None for
    the Org Authorization Server's endpoints, where the client authenticates in
    the request itself. ``request_count`` counts HTTP requests sent by this
    transport (retries included; an OktaClient's token requests go through its
    token source's own transport). ``retries`` counts repeats,
    ``rate_limited`` the 429 responses received.
    """

    def __init__(
        self,
        org_url: str,
        token_source: TokenSource | None,
        *,
        pacer: Pacer,
        clock: Clock,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 4,
        backoff_base: float = 0.5,
        max_backoff: float = 30.0,
        max_rate_limit_wait: float = 300.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
        max_response_bytes: int = 10_000_000,
        total_timeout: float = 60.0,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.token_source = token_source
        self.pacer = pacer
        self.clock = clock
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_rate_limit_wait = max_rate_limit_wait
        self.max_backoff = min(max_backoff, max_rate_limit_wait)
        self.jitter = jitter
        self.rng = rng or random.Random()
        self.max_response_bytes = max_response_bytes
        self.total_timeout = total_timeout
        self.request_count = 0
        self.retries = 0
        self.rate_limited = 0

    def backoff(self, attempt: int) -> float:
        """Capped exponential backoff with jitter for retry number ``attempt``
        (1-based), in seconds: uniform in [d/2, d], d = min(cap, base * 2**(n-1))."""
        delay = min(self.max_backoff, self.backoff_base * (2 ** max(0, attempt - 1)))
        return delay / 2 + self.rng.random() * delay / 2

    def rate_limit_wait(self, info: RateLimitInfo, attempt: int) -> float:
        """Seconds to wait after a 429: Reset - Date + 1 + jitter, or the capped
        backoff for a concurrency limit or unreadable headers."""
        to_reset = info.seconds_to_reset()
        if to_reset is None or info.concurrency:
            return self.backoff(attempt)
        return to_reset + 1.0 + self.rng.random() * self.jitter

    def url_for(self, path_or_url: str, params: dict[str, Any] | None) -> str:
        url = path_or_url if "://" in path_or_url else self.org_url + path_or_url
        if params:
            query = urlencode({k: v for k, v in params.items() if v is not None})
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        return url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: Callable[[], dict[str, str]] | None = None,
        auth: tuple[str, str] | None = None,
        retry_safe: bool,
    ) -> OktaResponse:
        """Send one request; return the 2xx response or raise a typed error.

        ``path_or_url``: an ``/api/v1/...`` or ``/oauth2/v1/...`` path or a full
        URL already checked to be on the org (a ``next`` link). ``form``: builds
        a form-encoded body, called again for every attempt (a client assertion
        must not be sent twice). ``auth``: (client id, client secret) for
        ``client_secret_basic``. ``retry_safe``: whether the request may be
        repeated (GET, DELETE by id, token requests). Raises an OktaError
        subclass.
        """
        url = self.url_for(path_or_url, params)
        split = urlsplit(url)
        path = split.path
        shown = path + (f"?{split.query}" if split.query else "")
        bucket = bucket_for(path)
        extra_headers: dict[str, str] = {}
        first_request_id = ""
        attempt = 0  # number of repeats so far (not counting the auth retry)
        auth_retried = scope_retried = False
        while True:
            ticket = self.pacer.before_request(bucket, self.max_rate_limit_wait)
            headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
            authorization = ""
            try:
                # After pacing, so a long wait cannot leave us an expired token
                # or an expired client assertion.
                if self.token_source is not None:
                    authorization = self.token_source.authorization()
                    headers["Authorization"] = authorization
                data = form() if form is not None else None
            except BaseException:
                self.pacer.release(bucket, ticket)
                raise
            headers.update(extra_headers)
            sent_at = self.clock.now()
            self.request_count += 1
            started = time.monotonic()
            try:
                response = self.session.request(
                    method,
                    url,
                    headers=headers,
                    json=json_body,
                    data=data,
                    auth=auth,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.RequestException as exc:
                self.pacer.release(bucket, ticket)
                failure: Exception = exc
                response = None
            if response is not None:
                received_at = self.clock.now()
                info = parse_rate_limit_headers(response.headers)
                self.pacer.after_response(bucket, info, sent_at, received_at, ticket)
                try:
                    content = self._read_body(response, started)
                except (requests.RequestException, HTTPError, _BodyError) as exc:
                    failure = exc
                    if isinstance(exc, _BodyError) and not exc.too_slow:
                        raise OktaMalformedResponse(
                            str(exc),
                            status=response.status_code,
                            request_id=response.headers.get("X-Okta-Request-Id", ""),
                            method=method,
                            path=path,
                        ) from None
                    response = None
            if response is None:
                timed_out = isinstance(
                    failure, requests.Timeout | ReadTimeoutError | _BodyError
                ) or (
                    # requests reports a read timeout inside the body this way
                    bool(failure.args) and isinstance(failure.args[0], ReadTimeoutError)
                )
                error_cls = OktaTimeout if timed_out else OktaConnectionError
                logger.debug("%s %s -> %s", method, shown, type(failure).__name__)
                if retry_safe and attempt < self.max_retries:
                    attempt += 1
                    self.retries += 1
                    self.clock.sleep(self.backoff(attempt))
                    extra_headers = self._retry_headers(first_request_id, attempt)
                    continue
                raise error_cls(
                    f"{'timed out' if timed_out else 'connection failed'} "
                    f"({type(failure).__name__})",
                    method=method,
                    path=path,
                ) from None
            request_id = response.headers.get("X-Okta-Request-Id", "")
            first_request_id = first_request_id or request_id
            logger.debug(
                "%s %s -> %s (request id %s, rate limit %s/%s)",
                method,
                shown,
                response.status_code,
                request_id or "-",
                info.remaining if info.valid else "?",
                info.limit if info.valid else "?",
            )
            status = response.status_code
            if 200 <= status < 300:
                return self._success(response, content, method, path, url, request_id)
            if status == 401 and not auth_retried and self.token_source is not None:
                auth_retried = True
                if self.token_source.refresh_after_unauthorized(authorization):
                    extra_headers = {}
                    continue
            error = error_from_response(response, method, path, content)
            if (
                isinstance(error, OktaInsufficientScope)
                and not scope_retried
                and self.token_source is not None
            ):
                scope_retried = True
                if self.token_source.refresh_after_insufficient_scope(authorization):
                    extra_headers = {}
                    continue
            if status == 429:
                self.rate_limited += 1
            repeatable = retry_safe and (status == 429 or status >= 500)
            if repeatable and attempt < self.max_retries:
                wait = (
                    self.rate_limit_wait(info, attempt + 1)
                    if status == 429
                    else self.backoff(attempt + 1)
                )
                if wait <= self.max_rate_limit_wait:
                    attempt += 1
                    self.retries += 1
                    logger.debug(
                        "%s %s: retry %d in %.2f s", method, path, attempt, wait
                    )
                    self.clock.sleep(wait)
                    extra_headers = self._retry_headers(first_request_id, attempt)
                    continue
            raise error

    @staticmethod
    def _retry_headers(first_request_id: str, attempt: int) -> dict[str, str]:
        headers = {"X-Okta-Retry-Count": str(attempt)}
        if first_request_id:
            headers["X-Okta-Retry-For"] = first_request_id
        return headers

    def _read_body(self, response: requests.Response, started: float) -> bytes:
        """The whole body, at most ``max_response_bytes`` and ``total_timeout``
        seconds after the request started (a slow drip is a timeout)."""
        chunks: list[bytes] = []
        size = 0
        raw = response.raw
        # read1 returns what has arrived, so a slow drip is noticed in time.
        reader = (
            (lambda: raw.read1(65536, decode_content=True))
            if hasattr(raw, "read1")
            else None
        )
        pieces = iter(reader, b"") if reader else response.iter_content(65536)
        complete = False
        try:
            for chunk in pieces:
                size += len(chunk)
                if size > self.max_response_bytes:
                    raise _BodyError(
                        f"response larger than {self.max_response_bytes} bytes",
                        too_slow=False,
                    )
                if time.monotonic() - started > self.total_timeout:
                    raise _BodyError(
                        f"response took longer than {self.total_timeout} s",
                        too_slow=True,
                    )
                chunks.append(chunk)
            complete = True
        finally:
            if complete and hasattr(raw, "release_conn"):
                raw.release_conn()  # fully read: keep the connection for reuse
            else:
                response.close()  # cut short: drop the connection
        return b"".join(chunks)

    @staticmethod
    def _success(
        response: requests.Response,
        content: bytes,
        method: str,
        path: str,
        url: str,
        request_id: str,
    ) -> OktaResponse:
        body: Any = None
        if response.status_code != 204 and content:
            content_type = response.headers.get("Content-Type", "")
            try:
                body = decode_json(content)
            except ValueError:
                raise OktaMalformedResponse(
                    f"response is not JSON (Content-Type {content_type or 'none'})",
                    status=response.status_code,
                    request_id=request_id,
                    method=method,
                    path=path,
                ) from None
        try:
            links = parse_links(response.headers.get("Link"))
        except OktaMalformedResponse as exc:
            exc.status, exc.request_id = response.status_code, request_id
            exc.method, exc.path = method, path
            raise
        return OktaResponse(
            status=response.status_code,
            headers=response.headers,
            body=body,
            request_id=request_id,
            links=links,
            url=url,
        )
