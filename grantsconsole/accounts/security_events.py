"""Refusals without a signed-in admin: counted in :class:`SecurityEvent` rows
(per source, kind and minute), never in the hash-chained audit trail.

Anyone on the internet can send a forged sign-in callback or a POST without a
session, so each one appending a chained row (and taking the chain's lock)
would let them grow the audit trail without bound. A refusal made for a
signed-in admin still writes its chained row (``accounts.auditing``).

Bounds: one row per (source, kind, minute), and at most ``ROWS_PER_MINUTE``
of those a minute; refusals past that are counted in one overflow row (source
and kind ``"*"``). So however many addresses send, a minute adds at most 11
rows (under 500 bytes each), and rows older than
``SECURITY_EVENT_RETENTION_DAYS`` are purged daily: at the default 30 days at
most about 475,000 rows, about 0.2 GB, under a month-long distributed attack.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import datetime, timedelta

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from grantsconsole.accounts.models import SecurityEvent

logger = logging.getLogger("grantsconsole.accounts")

ROWS_PER_MINUTE = 10
OVERFLOW = "*"
SAMPLE_PATH_CHARS = 200


def client_ip(request: HttpRequest) -> str:
    """The caller's address as allauth sees it: ``REMOTE_ADDR``, or behind the
    platform's router (``ALLAUTH_TRUSTED_PROXY_COUNT``, 1 in production) the
    ``X-Forwarded-For`` entry the router added. "" when there is no valid one."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return ""


def client_source(request: HttpRequest) -> str:
    """:func:`client_ip`, an IPv6 address as its /64 network; ``"unknown"``
    when there is no valid address."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


def _bump(source: str, kind: str, minute: datetime, now: datetime) -> int:
    return SecurityEvent.objects.filter(minute=minute, source=source, kind=kind).update(
        count=F("count") + 1, last_seen=now
    )


def _own_row_allowed(source: str, kind: str, minute: datetime) -> bool:
    """Whether (``source``, ``kind``) has a row of its own this minute: the
    first ROWS_PER_MINUTE pairs refused in a minute do (decided once per pair
    and minute, and remembered in the cache)."""
    stamp = int(minute.timestamp())
    key = f"secev:{stamp}:{source}:{kind}"
    try:
        allowed = cache.get(key)
        if allowed is None:
            counter = f"secev:{stamp}:rows"
            cache.add(counter, 0, 120)
            cache.add(key, cache.incr(counter) <= ROWS_PER_MINUTE, 120)
            allowed = cache.get(key, True)
        return bool(allowed)
    except ValueError:  # the counter expired between add and incr
        return True
    except Exception:  # Redis down: still count the refusal
        logger.warning("security events: the cache is unavailable", exc_info=True)
        return True


def note(request: HttpRequest, kind: str) -> None:
    """Count one refused request of ``kind`` from this request's source in the
    current minute's :class:`SecurityEvent` row (created with the request's path,
    cut to 200 characters, as its sample). Never raises for a database race:
    two first refusals in the same minute end as one row counting both."""
    now = timezone.now()
    minute = _minute(now)
    source, kind = client_source(request), kind[:48]
    if not _own_row_allowed(source, kind, minute):
        source = kind = OVERFLOW
    if _bump(source, kind, minute, now):
        return
    try:
        with transaction.atomic():
            SecurityEvent.objects.create(
                source=source,
                kind=kind,
                minute=minute,
                first_seen=now,
                last_seen=now,
                sample_path=request.path[:SAMPLE_PATH_CHARS],
            )
    except IntegrityError:  # another request created this minute's row first
        _bump(source, kind, minute, now)


def purge(now: datetime | None = None) -> int:
    """Delete rows whose minute is older than ``SECURITY_EVENT_RETENTION_DAYS``
    (setting, days). Returns how many rows were deleted."""
    cutoff = (now or timezone.now()) - timedelta(
        days=settings.SECURITY_EVENT_RETENTION_DAYS
    )
    deleted, _ = SecurityEvent.objects.filter(minute__lt=cutoff).delete()
    if deleted:
        logger.info("purged %s security-event rows before %s", deleted, cutoff)
    return deleted
