"""Injected faults: make matching requests misbehave a given number of times.

A rule (``POST /__sim__/faults``)::

    {"method": "GET"|"*", "path": "<regex searched in the path>", "times": 1 (-1 = always),
     "kind": KIND, "status"?: int, "error_code"?: str, "body"?: any, "headers"?: {..},
     "delay"?: seconds, ...kind options}

Kinds (each exercised over real HTTP by tests/oktasim):

- ``status``: answer ``status`` with Okta's error body (``error_code`` or the usual
  code for the status; ``body`` replaces it); a 429 carries rate-limit headers unless
  ``rate_limit_headers`` is false.
- ``delay``: wait ``delay`` seconds, then serve normally.
- ``hang``: never answer (until ``delay`` seconds, default 3600, or server stop).
- ``drip``: serve normally but send the body in ``chunk`` bytes every ``interval`` s.
- ``truncate``: announce the full Content-Length, send half the body, close.
- ``malformed``: 200 with a body that is not valid JSON.
- ``html``: 200 ``text/html`` (a login page, as a proxy or SSO wall would send).
- ``wrong_shape``: 200 JSON of the wrong shape (``body``, default ``{"unexpected": true}``).
- ``huge``: 200 JSON array of ``size`` bytes (default 20 MB), streamed.
- ``foreign_next``: serve normally, with the ``rel="next"`` Link pointing at
  ``host`` (default ``https://evil.example.net``).
- ``duplicate_headers``: serve normally plus a second, conflicting copy of each
  ``X-Rate-Limit-*`` header (and of ``headers`` given).
- ``drop``: close the connection without answering.
- ``delete_app``: delete ``app_id`` (logging it) before serving, e.g. mid-listing.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = {
    "status",
    "delay",
    "hang",
    "drip",
    "truncate",
    "malformed",
    "html",
    "wrong_shape",
    "huge",
    "foreign_next",
    "duplicate_headers",
    "drop",
    "delete_app",
}

DEFAULT_CODES = {
    400: ("E0000001", "Api validation failed: injected"),
    401: ("E0000011", "Invalid token provided"),
    403: ("E0000006", "You do not have permission to perform the requested action"),
    404: ("E0000007", "Not found: Resource not found: injected (AppInstance)"),
    405: ("E0000022", "The endpoint does not support the provided HTTP method"),
    429: ("E0000047", "API call exceeded rate limit due to too many requests."),
    500: ("E0000009", "Internal Server Error"),
    502: ("E0000009", "Internal Server Error"),
    503: ("E0000010", "Service is in read only mode"),
    504: ("E0000009", "Internal Server Error"),
}


@dataclass
class Fault:
    """One rule; ``remaining`` counts down (-1 = forever)."""

    method: str
    path: re.Pattern[str]
    kind: str
    remaining: int
    options: dict[str, Any] = field(default_factory=dict)
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        """The rule as JSON (for GET /__sim__/faults)."""
        return {
            "method": self.method,
            "path": self.path.pattern,
            "kind": self.kind,
            "remaining": self.remaining,
            "hits": self.hits,
            **self.options,
        }


class FaultBook:
    """The active rules, consulted once per request (first match wins)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[Fault] = []
        self.release = threading.Event()  # set on stop: hung requests return

    def add(self, spec: dict[str, Any]) -> Fault:
        """Validate and add a rule; ValueError with a plain message if invalid."""
        kind = spec.get("kind", "status")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        if "path" not in spec or not isinstance(spec["path"], str):
            raise ValueError("path (a regular expression) is required")
        try:
            rx = re.compile(spec["path"])
        except re.error as e:
            raise ValueError(f"path is not a valid regular expression: {e}") from None
        times = int(spec.get("times", 1))
        if kind == "status" and "status" not in spec:
            raise ValueError("kind 'status' needs a status")
        if kind == "delete_app" and "app_id" not in spec:
            raise ValueError("kind 'delete_app' needs an app_id")
        options = {
            k: v
            for k, v in spec.items()
            if k not in ("method", "path", "kind", "times")
        }
        fault = Fault(str(spec.get("method", "*")).upper(), rx, kind, times, options)
        with self.lock:
            self.rules.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self.lock:
            self.rules.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first rule matching this request, consuming one use of it."""
        if not self.rules:
            return None
        with self.lock:
            for f in self.rules:
                if (
                    f.remaining != 0
                    and f.method in ("*", method)
                    and f.path.search(path)
                ):
                    if f.remaining > 0:
                        f.remaining -= 1
                    f.hits += 1
                    return f
        return None
