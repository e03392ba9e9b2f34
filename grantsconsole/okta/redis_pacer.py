"""A pacer shared through Redis by every process that calls one Okta org as one
OAuth app (e.g. several Celery worker processes of the same service app).

Same policy as :class:`~grantsconsole.okta.pacing.LocalPacer` (stay below
``share`` of each bucket per window, and below the org-wide ``Remaining``), but
the window state lives in Redis and is changed only by two Lua scripts, so the
check-and-take of a slot is atomic across processes:

* ``<prefix>:<bucket>`` (hash): ``reset`` (Okta's Reset, epoch s on Okta's
  clock), ``limit``, ``remaining`` (lowest seen this window), ``own`` (answers
  to this app's requests in this window);
* ``<prefix>:<bucket>:inflight`` (sorted set): one member per request in
  flight, scored by when it was sent (Okta's clock), so a process that dies
  mid-request frees its slot after ``inflight_ttl`` seconds.

Times in Redis are Okta's (from ``Reset``); each process converts with its own
estimate of the ``Date`` offset (:class:`~grantsconsole.okta.pacing.ServerClock`).
Keys expire ``state_ttl`` seconds after the last use.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from .pacing import Clock, RateLimitInfo, ServerClock, SystemClock, check_wait

__all__ = ["RedisPacer"]

_ACQUIRE = """
local now = tonumber(ARGV[1])
local share = tonumber(ARGV[2])
local margin = tonumber(ARGV[3])
local ticket = ARGV[4]
local inflight_ttl = tonumber(ARGV[5])
local state_ttl = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - inflight_ttl)
local inflight = redis.call('ZCARD', KEYS[2])
local h = redis.call('HMGET', KEYS[1], 'reset', 'limit', 'remaining', 'own')
local reset, limit = tonumber(h[1]), tonumber(h[2])
local take = false
local wait = 0
if (not reset) or (not limit) or limit <= 0 then
  if inflight == 0 then take = true else wait = 0.05 end
else
  local remaining, own = tonumber(h[3]) or limit, tonumber(h[4]) or 0
  local expired = now >= reset + margin
  if expired then
    remaining = limit
    own = 0
  end
  local budget = math.max(1, math.floor(limit * share + 1e-9))
  if own + inflight < budget and remaining - inflight > 0 then
    take = true
  elseif expired or (inflight > 0 and remaining > 0) then
    wait = 0.05
  else
    wait = reset + margin - now
  end
end
if take then
  redis.call('ZADD', KEYS[2], now, ticket)
  redis.call('EXPIRE', KEYS[2], state_ttl)
  return '0'
end
if wait < 0.01 then wait = 0.01 end
return tostring(wait)
"""

_RECORD = """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '1' then return 0 end
local reset, limit, remaining = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local state_ttl = tonumber(ARGV[6])
local current = tonumber(redis.call('HGET', KEYS[1], 'reset'))
if (not current) or reset > current then
  redis.call('HSET', KEYS[1], 'reset', reset, 'limit', limit, 'remaining', remaining,
             'own', 1)
elseif reset == current then
  redis.call('HINCRBY', KEYS[1], 'own', 1)
  redis.call('HSET', KEYS[1], 'limit', limit)
  local seen = tonumber(redis.call('HGET', KEYS[1], 'remaining'))
  if (not seen) or remaining < seen then
    redis.call('HSET', KEYS[1], 'remaining', remaining)
  end
end
redis.call('EXPIRE', KEYS[1], state_ttl)
return 1
"""


class RedisPacer:
    """Pacer shared by processes through Redis; drop-in for ``LocalPacer``.

    ``redis``: a ``redis.Redis`` client. ``key_prefix``: one per org and OAuth
    app, e.g. ``"grantsconsole:okta:<org host>:<client_id>"`` (apps have
    separate shares in Okta). ``share``: fraction (0, 1] of each bucket per
    window. ``margin``: seconds added after a reset before sending.
    ``inflight_ttl``: seconds after which a request that never reported back
    stops holding a slot. Raises ``redis.RedisError`` if Redis is unreachable
    (the caller decides whether to fall back to a LocalPacer).
    """

    def __init__(
        self,
        redis: Any,
        key_prefix: str,
        *,
        share: float = 0.5,
        clock: Clock | None = None,
        margin: float = 0.05,
        inflight_ttl: float = 120.0,
        state_ttl: int = 600,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.redis = redis
        self.key_prefix = key_prefix.rstrip(":")
        self.share = share
        self.clock: Clock = clock or SystemClock()
        self.margin = margin
        self.inflight_ttl = inflight_ttl
        self.state_ttl = state_ttl
        self.server_clock = ServerClock()
        self._lock = threading.Lock()
        self._acquire = redis.register_script(_ACQUIRE)
        self._record = redis.register_script(_RECORD)
        self.waited_seconds = 0.0
        self.waits = 0

    def __repr__(self) -> str:
        return f"RedisPacer(key_prefix={self.key_prefix!r}, share={self.share})"

    def _keys(self, bucket: str) -> list[str]:
        key = f"{self.key_prefix}:{bucket}"
        return [key, f"{key}:inflight"]

    def _server_now(self) -> float:
        """Okta's clock now, estimated on the late side (never ends a window early)."""
        now = self.clock.now()
        with self._lock:
            server_now = self.server_clock.to_server(now)
        return now if server_now is None else server_now

    def before_request(self, bucket: str, max_wait: float | None = None) -> str:
        """Block until a slot in ``bucket`` is free across all processes; return
        the slot's ticket. Raises OktaRateLimited instead of waiting more than
        ``max_wait`` seconds."""
        ticket = uuid.uuid4().hex
        waited = 0.0
        while True:
            wait = float(
                self._acquire(
                    keys=self._keys(bucket),
                    args=[
                        repr(self._server_now()),
                        repr(self.share),
                        repr(self.margin),
                        ticket,
                        repr(self.inflight_ttl),
                        self.state_ttl,
                    ],
                )
            )
            if wait <= 0:
                return ticket
            check_wait(waited + wait, max_wait)
            waited += wait
            self.waits += 1
            self.waited_seconds += wait
            self.clock.sleep(wait)

    def release(self, bucket: str, ticket: object = None) -> None:
        """Free the slot of a request that got no response."""
        self._record(keys=self._keys(bucket), args=[str(ticket), "0", 0, 0, 0, 0])

    def after_response(
        self,
        bucket: str,
        info: RateLimitInfo,
        sent_at: float,
        received_at: float,
        ticket: object = None,
    ) -> None:
        """Free the slot and merge the response's rate-limit headers into Redis."""
        if info.date is not None:
            with self._lock:
                self.server_clock.observe(info.date, sent_at, received_at)
        valid = info.valid and info.limit > 0
        self._record(
            keys=self._keys(bucket),
            args=[
                str(ticket),
                "1" if valid else "0",
                info.reset,
                info.limit,
                info.remaining,
                self.state_ttl,
            ],
        )
