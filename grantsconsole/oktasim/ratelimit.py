"""Okta-style rate limits: per-bucket request counts over a window, plus a
concurrency limit.

Buckets follow Okta's historical Workforce table (docs/okta-api.md §5): the most
specific bucket wins. A bucket's window starts at its first request after the
previous window ended (Okta's windows are not aligned to wall-clock minutes) and
lasts ``window_seconds`` (60 by default; shorter for benchmarks). Every response
reports the bucket that applied in ``X-Rate-Limit-Limit/-Remaining/-Reset``
(``Reset`` in UTC epoch seconds of the simulator clock).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from .state import Clock

# (bucket, path regex) — first match wins, so more specific patterns come first.
BUCKET_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("unlimited", re.compile(r"^/(\.well-known/|oauth2/v1/keys$)")),
    ("app", re.compile(r"^/api/v1/apps/[^/]+$")),
    ("apps", re.compile(r"^/api/v1/apps(/.*)?$")),
    ("logs", re.compile(r"^/api/v1/logs$")),
    ("api", re.compile(r"^/api/v1(/.*)?$")),
    ("clients", re.compile(r"^/oauth2/v1/clients(/.*)?$")),
    ("oauth2", re.compile(r"^/oauth2/v1/")),
]

# Okta Workforce defaults per minute (`/api/v1/apps*` incl. grants = 100).
DEFAULT_LIMITS = {
    "apps": 100,
    "app": 500,
    "logs": 120,
    "api": 1200,
    "clients": 100,
    "oauth2": 2000,
    "unlimited": 10000,
    "other": 10000,
}
DEFAULT_CONCURRENCY = 75


def bucket_for(path: str) -> str:
    """The rate-limit bucket name for a request path."""
    for name, rx in BUCKET_RULES:
        if rx.match(path):
            return name
    return "other"


@dataclass(slots=True)
class Verdict:
    """Outcome of counting one request: the headers to send and whether it is over."""

    bucket: str
    limit: int
    remaining: int
    reset: int
    exceeded: bool
    concurrency: bool = False

    def headers(self) -> list[tuple[str, str]]:
        """The three X-Rate-Limit-* headers for a response."""
        return [
            ("X-Rate-Limit-Limit", str(self.limit)),
            ("X-Rate-Limit-Remaining", str(self.remaining)),
            ("X-Rate-Limit-Reset", str(self.reset)),
        ]


class RateLimiter:
    """Thread-safe bucket counters. Limits and window are changeable at runtime."""

    def __init__(self, clock: Clock, apps_limit: int | None = None) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.limits = dict(DEFAULT_LIMITS)
        if apps_limit is not None:
            self.limits["apps"] = int(apps_limit)
        self.window_seconds = 60.0
        self.concurrency_limit: int | None = DEFAULT_CONCURRENCY
        self.in_flight = 0
        self._windows: dict[str, tuple[float, int]] = {}

    def configure(
        self,
        limits: dict[str, int] | None = None,
        window_seconds: float | None = None,
        concurrency: int | bool | None = False,
    ) -> None:
        """Set bucket limits (per window), the window length, the concurrency limit.

        ``concurrency=None`` switches the concurrency limit off; ``False`` leaves it.
        """
        with self.lock:
            for k, v in (limits or {}).items():
                self.limits[k] = int(v)
            if window_seconds is not None:
                self.window_seconds = float(window_seconds)
            if concurrency is not False:
                self.concurrency_limit = (
                    None if concurrency is None else int(concurrency)
                )
            self._windows.clear()

    def hit(
        self, bucket: str, enforce: bool = True, now: float | None = None
    ) -> Verdict:
        """Count one request in ``bucket`` at ``now`` (default: the clock's now)
        and report the headers for its response."""
        now = self.clock.now() if now is None else now
        limit = self.limits.get(bucket, DEFAULT_LIMITS["other"])
        with self.lock:
            start, count = self._windows.get(bucket, (0.0, 0))
            if now >= start + self.window_seconds:
                # Start on a whole second, so the window really ends at the
                # X-Rate-Limit-Reset it announces (epoch seconds): a client that
                # waits until Reset is then neither early (429) nor late.
                start, count = float(math.floor(now)), 0
            count += 1
            self._windows[bucket] = (start, count)
        reset = math.ceil(start + self.window_seconds)
        exceeded = enforce and bucket != "unlimited" and count > limit
        return Verdict(bucket, limit, max(0, limit - count), reset, exceeded)

    def enter(self) -> Verdict | None:
        """Start an in-flight API request; a Verdict when over the concurrency limit.

        The concurrency 429 reports ``X-Rate-Limit-Limit: 0`` and ``Remaining: 0``
        as Okta does; its reset is an estimate (now + 60 s).
        """
        with self.lock:
            self.in_flight += 1
            if (
                self.concurrency_limit is not None
                and self.in_flight > self.concurrency_limit
            ):
                return Verdict(
                    "concurrency", 0, 0, math.ceil(self.clock.now() + 60), True, True
                )
        return None

    def leave(self) -> None:
        """End an in-flight API request."""
        with self.lock:
            self.in_flight -= 1
