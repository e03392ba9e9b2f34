"""Rate-limit pacing for Okta's management API.

Okta reports on every response (Okta API reference, "Rate limits": headers
``X-Rate-Limit-Limit``, ``X-Rate-Limit-Remaining``, ``X-Rate-Limit-Reset``) the
ceiling of the bucket the request fell in, what is left of the current window
org-wide, and the UTC epoch second at which the window resets. Windows are not
aligned to wall-clock minutes, and Okta lets one OAuth app or API token use a
share (by default 50%) of a bucket.

:class:`LocalPacer` keeps this client below ``share`` of each bucket: per
window (identified by its Reset value) it counts the requests *this client*
made and stops at ``floor(limit * share)``, and it also stops when the org-wide
``Remaining`` is used up (another tool drained the bucket). Stopping means
sleeping until the window's reset, converted to local time with the offset
between our clock and Okta's ``Date`` header (so clock skew does not matter).
Within a window it sends at once: the whole share is spent, then it waits, so a
long sync needs no more windows than necessary.

The pacer sits behind the small :class:`Pacer` protocol so that a pacer shared
through Redis by several worker processes can replace it; sleeping goes through
a :class:`Clock` so tests do not have to sleep for real.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from .errors import OktaRateLimited

__all__ = [
    "BUCKET_APP",
    "BUCKET_APPS",
    "BUCKET_CLIENTS",
    "BUCKET_LOGS",
    "BUCKET_OTHER",
    "BUCKET_USERS",
    "Clock",
    "LocalPacer",
    "Pacer",
    "RateLimitInfo",
    "ServerClock",
    "SystemClock",
    "bucket_for",
    "budget_for",
    "parse_rate_limit_headers",
    "shared_pacer",
]

BUCKET_APPS = "/api/v1/apps*"
BUCKET_APP = "/api/v1/apps/{appId}"
BUCKET_LOGS = "/api/v1/logs"
BUCKET_USERS = "/api/v1/users*"
BUCKET_CLIENTS = "/oauth2/v1/clients*"
BUCKET_OTHER = "/api/v1/*"


def bucket_for(path_or_url: str) -> str:
    """Name of the rate-limit bucket a request path falls in.

    Mirrors Okta's table (okta-api.md §5): ``/api/v1/apps`` and everything below
    it, including an app's grants, share one bucket, except a single app
    ``/api/v1/apps/{appId}``, which Okta meters separately; ``/api/v1/logs``,
    ``/api/v1/users*`` and ``/oauth2/v1/clients*`` (a service app's admin roles)
    have their own; anything else is "other". The limits themselves are always
    read from the response headers.
    """
    path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url
    path = path.split("?", 1)[0].rstrip("/")
    if path.startswith("/api/v1/apps/") and path.count("/") == 4:
        return BUCKET_APP
    if path == "/api/v1/apps" or path.startswith("/api/v1/apps/"):
        return BUCKET_APPS
    if path == "/api/v1/logs":
        return BUCKET_LOGS
    if path == "/api/v1/users" or path.startswith("/api/v1/users/"):
        return BUCKET_USERS
    if path == "/oauth2/v1/clients" or path.startswith("/oauth2/v1/clients/"):
        return BUCKET_CLIENTS
    return BUCKET_OTHER


class Clock(Protocol):
    """Time source: ``now()`` in epoch seconds (float, local clock) and ``sleep()``."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (``time.time`` / ``time.sleep``)."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class RateLimitInfo:
    """The rate-limit headers of one response, validated.

    ``limit``/``remaining`` are request counts, ``reset`` is epoch seconds (Okta's
    clock), ``date`` is the ``Date`` header as epoch seconds (None if absent or
    unreadable). ``valid`` is False when Limit/Remaining/Reset are missing,
    duplicated or not integers; then only ``date`` may be used.
    """

    limit: int
    remaining: int
    reset: int
    date: float | None
    valid: bool

    @property
    def concurrency(self) -> bool:
        """True for Okta's concurrent-request limit (Limit 0 and Remaining 0)."""
        return self.valid and self.limit == 0

    def seconds_to_reset(self) -> float | None:
        """Reset minus Date (Okta's clock, seconds, >= 0), or None if unknown."""
        if not self.valid or self.date is None:
            return None
        return max(0.0, self.reset - self.date)


def _single_int(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value or "," in value:
        return None  # missing or duplicated ("60, 60") headers are not trusted
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def _http_date(value: str | None) -> float | None:
    if not value or value.count(",") > 1:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def parse_rate_limit_headers(headers: object) -> RateLimitInfo:
    """Read X-Rate-Limit-Limit/-Remaining/-Reset and Date from response headers.

    ``headers`` is any mapping with case-insensitive ``get`` (requests'
    ``CaseInsensitiveDict``; repeated headers arrive comma-joined and are
    treated as garbled). Never raises.
    """
    get = getattr(headers, "get", None)
    if get is None:
        return RateLimitInfo(0, 0, 0, None, False)
    limit = _single_int(get("X-Rate-Limit-Limit"))
    remaining = _single_int(get("X-Rate-Limit-Remaining"))
    reset = _single_int(get("X-Rate-Limit-Reset"))
    date = _http_date(get("Date"))
    if limit is None or remaining is None or reset is None:
        return RateLimitInfo(0, 0, 0, date, False)
    return RateLimitInfo(limit, remaining, reset, date, True)


class ServerClock:
    """Estimates ``offset`` = Okta's clock minus our clock from ``Date`` headers.

    ``Date`` has one-second resolution: for a response sent at local ``t0`` and
    received at ``t1`` with Date ``d``, Okta's time at answering lay in
    ``[d, d + 1)`` and our time in ``[t0, t1]``, so
    ``d - t1 <= offset < d + 1 - t0``. Intersecting the bounds of recent
    responses narrows the estimate well below a second. If a sample contradicts
    the bounds (Okta's or our clock jumped), the estimate restarts from it.
    """

    def __init__(self, history: int = 64) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=history)
        self._lower: float | None = None
        self._upper: float | None = None

    def observe(self, date: float, sent_at: float, received_at: float) -> None:
        """Add one response: its Date (epoch s) and local send/receive times."""
        lower, upper = date - received_at, date + 1.0 - sent_at
        have_bounds = self._lower is not None and self._upper is not None
        if have_bounds and (lower > self._upper or upper < self._lower):
            self._samples.clear()  # a clock jumped: forget old samples
        self._samples.append((lower, upper))
        self._lower = max(sample[0] for sample in self._samples)
        self._upper = min(sample[1] for sample in self._samples)

    @property
    def known(self) -> bool:
        return self._lower is not None

    def to_server(self, local_time: float) -> float | None:
        """Earliest Okta time that ``local_time`` may correspond to (so a window
        is never taken as over too soon); None if no Date was seen yet."""
        if self._lower is None:
            return None
        return local_time + self._lower

    def to_local(self, server_time: float) -> float | None:
        """Latest local time at which Okta's clock might still be before
        ``server_time`` (so waiting until then is never early); None if unknown."""
        if self._lower is None:
            return None
        return server_time - self._lower


class Pacer(Protocol):
    """What the transport needs from a pacer (local, or shared between processes).

    ``before_request(bucket, max_wait)`` blocks (through the clock) until one
    more request in ``bucket`` stays within the share and returns a ticket for
    that slot (any object, or None); if that would mean waiting more than
    ``max_wait`` seconds in all it raises OktaRateLimited (``retry_after`` = the
    wait) without taking a slot; ``after_response(bucket, info, sent_at, received_at,
    ticket)`` feeds back the rate-limit headers of the response (called for
    every response, 429s included; times are local epoch seconds) and frees the
    slot; ``release(bucket, ticket)`` frees the slot of a request that got no
    response.
    """

    def before_request(self, bucket: str, max_wait: float | None = None) -> object: ...

    def after_response(
        self,
        bucket: str,
        info: RateLimitInfo,
        sent_at: float,
        received_at: float,
        ticket: object = None,
    ) -> None: ...

    def release(self, bucket: str, ticket: object = None) -> None: ...


def check_wait(total: float, max_wait: float | None) -> None:
    """Raise OktaRateLimited when a pacing wait of ``total`` seconds would pass
    ``max_wait`` (an interactive caller would rather say "try again soon")."""
    if max_wait is not None and total > max_wait:
        raise OktaRateLimited(
            f"this app's share of the rate limit is used up for about {total:.0f} s",
            retry_after=total,
        )


def budget_for(limit: int, share: float) -> int:
    """Requests one client may send per window of a bucket with ``limit``:
    ``max(1, floor(limit * share))``."""
    return max(1, math.floor(limit * share + 1e-9))


@dataclass(slots=True)
class _Window:
    reset: int  # Okta's Reset (epoch s, Okta clock): identifies the window
    limit: int
    remaining: int  # lowest Remaining seen in this window (org-wide)
    own: int  # responses to our requests counted in this window


class LocalPacer:
    """Per-process pacer keeping this client below ``share`` of every bucket.

    Per bucket it remembers the current window (Reset, Limit, lowest Remaining,
    our own request count) and the number of our requests in flight. A request
    may go while ``own + in_flight < max(1, floor(limit * share))`` and
    ``remaining - in_flight > 0``; otherwise the pacer sleeps until the window
    resets (local time, from Reset and the ``Date`` offset) plus ``margin``
    seconds. While nothing is known about a bucket, one request at a time goes;
    once its window has passed, up to a window's share goes at once.
    Thread-safe.
    """

    def __init__(
        self,
        share: float = 0.5,
        *,
        clock: Clock | None = None,
        margin: float = 0.05,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.share = share
        self.clock: Clock = clock or SystemClock()
        self.margin = margin
        self.server_clock = ServerClock()
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._window_end: dict[str, float] = {}  # bucket -> local epoch seconds
        self._in_flight: dict[str, int] = {}
        self.waited_seconds = 0.0  # total pacing sleep (for benchmarks)
        self.waits = 0

    def budget(self, limit: int) -> int:
        """Requests this client may send per window of a bucket with ``limit``."""
        return budget_for(limit, self.share)

    def _wait_needed(self, bucket: str, now: float) -> float:
        window = self._windows.get(bucket)
        end = self._window_end.get(bucket)
        in_flight = self._in_flight.get(bucket, 0)
        if window is None or end is None or window.limit <= 0:
            # Nothing known yet: one request at a time until an answer tells.
            return 0.05 if in_flight else 0.0
        own, remaining = window.own, window.remaining
        if now >= end:
            # The window has reset: assume a fresh one until an answer says more,
            # but never put more than a window's share in flight blindly.
            own, remaining = 0, window.limit
        if own + in_flight < self.budget(window.limit) and remaining - in_flight > 0:
            return 0.0
        if now >= end or (in_flight and remaining > 0):
            # Our own requests in flight hold the last slots; their answers
            # decide. Poll briefly rather than wait a whole window.
            return 0.05 if now >= end else min(end - now, 0.05)
        return end - now

    def before_request(self, bucket: str, max_wait: float | None = None) -> None:
        """Block until one more request in ``bucket`` fits the share; take a slot
        (the ticket is None: slots are counted per bucket). Raises
        OktaRateLimited instead of waiting more than ``max_wait`` seconds."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock.now()
                wait = self._wait_needed(bucket, now)
                if wait <= 0:
                    self._in_flight[bucket] = self._in_flight.get(bucket, 0) + 1
                    return
            check_wait(waited + wait, max_wait)
            waited += wait
            self.waits += 1
            self.waited_seconds += wait
            self.clock.sleep(wait)

    def release(self, bucket: str, ticket: object = None) -> None:
        """Give back the slot of a request that got no response."""
        with self._lock:
            if self._in_flight.get(bucket, 0) > 0:
                self._in_flight[bucket] -= 1

    def after_response(
        self,
        bucket: str,
        info: RateLimitInfo,
        sent_at: float,
        received_at: float,
        ticket: object = None,
    ) -> None:
        """Record a response's headers (every response, 429s included)."""
        with self._lock:
            if self._in_flight.get(bucket, 0) > 0:
                self._in_flight[bucket] -= 1
            if info.date is not None:
                self.server_clock.observe(info.date, sent_at, received_at)
            if not info.valid or info.limit <= 0:
                return  # garbled headers or a concurrency limit: no window data
            window = self._windows.get(bucket)
            if window is None or info.reset > window.reset:
                window = _Window(info.reset, info.limit, info.remaining, 0)
                self._windows[bucket] = window
            elif info.reset < window.reset:
                return  # a late answer from the previous window
            window.limit = info.limit
            window.remaining = min(window.remaining, info.remaining)
            window.own += 1
            end = self.server_clock.to_local(float(info.reset))
            if end is None:
                # No Date ever seen: trust Reset as if our clocks agreed, but
                # never wait longer than Okta's one-minute window.
                end = min(float(info.reset), received_at + 60.0)
            self._window_end[bucket] = end + self.margin

    def snapshot(self) -> dict[str, dict[str, float]]:
        """Current per-bucket state (for diagnostics and tests)."""
        with self._lock:
            return {
                bucket: {
                    "reset": window.reset,
                    "limit": window.limit,
                    "remaining": window.remaining,
                    "own": window.own,
                    "window_end_local": self._window_end.get(bucket, 0.0),
                }
                for bucket, window in self._windows.items()
            }


_SHARED: dict[tuple[str, float], LocalPacer] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacer(key: str, share: float = 0.5) -> LocalPacer:
    """The process-wide LocalPacer for ``key`` (e.g. ``f"{org_url} {client_id}"``:
    Okta gives each OAuth app or API token its own share), created on first use
    with the real clock. Lets short-lived clients (one per web request) pace as
    one; use :class:`~grantsconsole.okta.redis_pacer.RedisPacer` across
    processes."""
    with _SHARED_LOCK:
        pacer = _SHARED.get((key, share))
        if pacer is None:
            pacer = _SHARED[(key, share)] = LocalPacer(share)
        return pacer
