"""Single-flight locks in the database (reliability-and-performance.md A3).

A lock is a row in ``SyncLock`` with an owner token and an expiry. Taking it is
one conditional UPDATE ("free, expired, or already mine"), so two workers can
never both hold it; releasing compares the owner token. The expiry must be
longer than the longest step that runs under the lock; a holder renews it as it
works, and a lock whose holder died frees itself when it expires. The database
(not Redis) holds the lock so the same code works with the filesystem broker
of ``make run``.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from grantsconsole.grants.models import SyncLock


def acquire(name: str, owner: str, ttl_seconds: float) -> bool:
    """Take (or renew) lock ``name`` for ``owner`` for ``ttl_seconds``.

    Returns True when ``owner`` holds the lock afterwards, False when another
    owner holds an unexpired lock.
    """
    now = timezone.now()
    if not SyncLock.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                SyncLock.objects.create(name=name, owner="", expires_at=now)
        except IntegrityError:
            pass  # created concurrently; fall through to the conditional update
    taken = (
        SyncLock.objects.filter(name=name)
        .filter(Q(owner="") | Q(owner=owner) | Q(expires_at__lt=now))
        .update(
            owner=owner,
            acquired_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    return taken == 1


def renew(name: str, owner: str, ttl_seconds: float) -> bool:
    """Extend ``owner``'s hold on ``name``; False if ``owner`` no longer holds it."""
    now = timezone.now()
    return (
        SyncLock.objects.filter(name=name, owner=owner).update(
            expires_at=now + timedelta(seconds=ttl_seconds)
        )
        == 1
    )


def release(name: str, owner: str) -> bool:
    """Free ``name`` if ``owner`` holds it; returns whether it did."""
    now = timezone.now()
    return (
        SyncLock.objects.filter(name=name, owner=owner).update(owner="", expires_at=now)
        == 1
    )


def holder(name: str) -> str:
    """The owner of an unexpired lock ``name``, or "" when it is free."""
    lock = SyncLock.objects.filter(name=name, expires_at__gte=timezone.now()).first()
    return lock.owner if lock else ""
