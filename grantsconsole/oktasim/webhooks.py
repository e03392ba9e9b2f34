"""A local webhook receiver for alert deliveries (not part of Okta): the demo
and the tests point a console alert destination at ``/__sim__/webhooks`` to
see deliveries arrive.

It checks a JSON webhook's signature the way the README tells receivers to,
written here independently of the console (a shared implementation could not
catch the console's mistakes): ``X-Grantsconsole-Signature`` must be
``sha256=`` + hex HMAC-SHA256(secret, timestamp + "." + raw body) and
``X-Grantsconsole-Timestamp`` within ``REPLAY_WINDOW`` seconds of the
receiver's wall clock. A bad or stale signature is answered 401 (and kept,
marked, so it can be seen); a delivery without signature headers (a
Slack-compatible one) is kept as unsigned. The last ``KEEP`` are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections import deque
from typing import Any

DEFAULT_SECRET = "demo-alert-webhook-secret"
REPLAY_WINDOW = 300
KEEP = 200


class WebhookInbox:
    """The deliveries received, newest last; thread-safe."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = (
            secret
            if secret is not None
            else os.environ.get("OKTASIM_WEBHOOK_SECRET", DEFAULT_SECRET)
        )
        self.lock = threading.Lock()
        self.items: deque[dict[str, Any]] = deque(maxlen=KEEP)

    def check(self, headers: dict[str, str], body: bytes, now: float) -> str:
        """ "verified", "unsigned", or why the signature fails."""
        signature = headers.get("x-grantsconsole-signature", "")
        stamp = headers.get("x-grantsconsole-timestamp", "")
        if not signature and not stamp:
            return "unsigned"
        if not stamp.isdigit():
            return "bad timestamp"
        if abs(now - int(stamp)) > REPLAY_WINDOW:
            return "timestamp outside the replay window"
        mac = hmac.new(
            self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
        )
        if not hmac.compare_digest("sha256=" + mac.hexdigest(), signature):
            return "bad signature"
        return "verified"

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        """Keep one delivery; returns the status and JSON to answer."""
        now = time.time()
        verdict = self.check(headers, body, now)
        try:
            payload: Any = json.loads(body)
        except ValueError:
            payload = body[:2000].decode("utf-8", "replace")
        item = {
            "received_at": now,
            "verdict": verdict,
            "delivery": headers.get("x-grantsconsole-delivery", ""),
            "body": payload,
        }
        with self.lock:
            self.items.append(item)
        if verdict in ("verified", "unsigned"):
            return 200, {"ok": True, "verdict": verdict}
        return 401, {"ok": False, "verdict": verdict}

    def list(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.items)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
