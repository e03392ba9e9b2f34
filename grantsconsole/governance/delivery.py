"""Delivering alerts: one attempt of one delivery, the signing of JSON
webhooks, and the delivery's record (the delivery log).

A webhook gets ``settings.ALERT_WEBHOOK_TIMEOUT`` seconds to connect and the
same to answer in full, and redirects are never followed (a 3xx is a failed
delivery that names where it pointed): an endpoint cannot send the alert, or
the signature, to another host. A timeout, a connection error, 408, 429 and
5xx are worth retrying; any other answer is not (the destination needs
fixing). Only the final failure of a delivery is audited
(``alert_undelivered``), not each retry.

JSON webhook signature (documented for receivers in the README):
``X-Grantsconsole-Timestamp`` is the Unix time in seconds and
``X-Grantsconsole-Signature`` is ``sha256=`` and the hex HMAC-SHA256, keyed
with the destination's secret, of ``timestamp + "." + body`` (the raw body
bytes). ``X-Grantsconsole-Delivery`` is the delivery's id (the same on each
retry, for receivers that drop duplicates).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from grantsconsole.governance.alerts_models import (
    Alert,
    AlertDelivery,
    AlertDestination,
)
from grantsconsole.grants import audit

SIGNATURE_HEADER = "X-Grantsconsole-Signature"
TIMESTAMP_HEADER = "X-Grantsconsole-Timestamp"
DELIVERY_HEADER = "X-Grantsconsole-Delivery"
RETRY_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
#: bytes of a webhook's answer read at most (only its status matters)
MAX_ANSWER_BYTES = 64 * 1024

Status = AlertDelivery.Status


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one attempt: ``ok``, the webhook's ``status_code`` (None
    for e-mail or no answer), ``error`` in plain words, and whether another
    attempt may succeed (``retry``)."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retry: bool = False


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Grantsconsole-Signature`` value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def alert_json(alert: Alert) -> dict[str, Any]:
    """The alert as the JSON webhook sends it."""
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "risk": alert.risk,
        "title": alert.title,
        "details": alert.details,
        "app": (
            {"id": alert.app.okta_id, "label": alert.app.label} if alert.app else None
        ),
        "scope_id": alert.scope_id,
        "created": _iso(alert.created_at),
    }


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _facts(alert: Alert) -> list[str]:
    return [
        f"{k}: {v}" for k, v in sorted(alert.details.items()) if v not in ("", None)
    ]


def _slack_escape(text: str) -> str:
    """Slack's escaping of ``&``, ``<`` and ``>``: an app label cannot become
    a link or an ``<!channel>`` mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_json(alert: Alert) -> dict[str, Any]:
    """The alert as a Slack-compatible incoming webhook takes it: ``text``
    (what every compatible receiver shows) and ``blocks``."""
    text = _slack_escape(f"[{alert.risk}] {alert.title}")
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _slack_escape("\n".join(_facts(alert))) or alert.kind,
                    }
                ],
            },
        ],
    }


# Webhooks are not Okta: no Okta client, and urllib3 rather than requests
# (tests/okta/test_layering.py keeps requests for Okta I/O). No retries here:
# the task retries, with backoff.
_HTTP = urllib3.PoolManager(retries=False, num_pools=20)


def internal_address(host: str) -> str:
    """The loopback, private, link-local or reserved address ``host`` resolves
    to, or "" when it resolves only to public addresses (or not at all: the
    delivery then fails to connect). Webhooks never go to internal addresses
    unless ``ALERT_WEBHOOK_ALLOW_PRIVATE`` (development)."""
    if settings.ALERT_WEBHOOK_ALLOW_PRIVATE:
        return ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ""
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return ""


def _post(url: str, body: bytes, headers: dict[str, str]) -> Attempt:
    internal = internal_address(urlsplit(url).hostname or "")
    if internal:
        return Attempt(
            False,
            error=f"refused: the host resolves to an internal address ({internal})",
        )
    timeout = float(settings.ALERT_WEBHOOK_TIMEOUT)
    started = time.monotonic()
    try:
        answer = _HTTP.request(
            "POST",
            url,
            body=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            redirect=False,
            preload_content=False,
        )
        try:
            # The read timeout is per read: a server trickling bytes is cut
            # off at the deadline instead.
            read = 0
            for chunk in answer.stream(8192):
                read += len(chunk)
                if read > MAX_ANSWER_BYTES or time.monotonic() - started > 2 * timeout:
                    break
        finally:
            answer.close()  # not back to the pool: the answer may be unread
    except urllib3.exceptions.NewConnectionError as exc:  # a TimeoutError too
        return Attempt(
            False, error=f"could not connect: {type(exc).__name__}", retry=True
        )
    except urllib3.exceptions.TimeoutError:
        return Attempt(False, error=f"no answer within {timeout:g} s", retry=True)
    except urllib3.exceptions.HTTPError as exc:
        return Attempt(
            False, error=f"could not connect: {type(exc).__name__}", retry=True
        )
    code = answer.status
    if 200 <= code < 300:
        return Attempt(True, code)
    if 300 <= code < 400:
        where = urlsplit(answer.headers.get("Location", "")).netloc or "the same host"
        return Attempt(
            False, code, f"answered {code}, a redirect to {where}: not followed"
        )
    return Attempt(False, code, f"answered {code}", retry=code in RETRY_STATUSES)


def _send_email(destination: AlertDestination, alert: Alert) -> Attempt:
    body = "\n".join([alert.title, "", *_facts(alert)])
    try:
        send_mail(
            # One line: a title copied from Okta (an app label) may hold newlines.
            " ".join(f"[grantsconsole {alert.risk}] {alert.title}".split()),
            body,
            None,
            destination.recipients,
        )
    except Exception as exc:  # SMTP refused, timed out, ...
        return Attempt(False, error=f"mail not sent: {type(exc).__name__}", retry=True)
    return Attempt(True)


def send(destination: AlertDestination, alert: Alert, delivery_id: int) -> Attempt:
    """One attempt to send ``alert`` to ``destination``; never raises for the
    destination's faults."""
    if destination.kind == AlertDestination.Kind.EMAIL:
        return _send_email(destination, alert)
    if destination.kind == AlertDestination.Kind.SLACK:
        body = json.dumps(slack_json(alert)).encode()
        return _post(destination.url, body, {})
    body = json.dumps(alert_json(alert), sort_keys=True, separators=(",", ":")).encode()
    timestamp = int(time.time())
    return _post(
        destination.url,
        body,
        {
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(destination.secret, timestamp, body),
            DELIVERY_HEADER: str(delivery_id),
        },
    )


def attempt(delivery_id: int) -> Attempt | None:
    """Make the next attempt of delivery ``delivery_id`` and record it (its
    attempts, last answer or error). None when there is nothing to do: the
    delivery is unknown, already delivered or failed, or its destination was
    deleted (then it is recorded as failed)."""
    delivery = (
        AlertDelivery.objects.select_related("alert__app", "destination")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status in (Status.DELIVERED, Status.FAILED):
        return None
    if delivery.destination is None:
        give_up(delivery_id, "the destination was deleted")
        return None
    result = send(delivery.destination, delivery.alert, delivery.pk)
    now = timezone.now()
    delivery.attempts += 1
    delivery.status_code = result.status_code
    delivery.error = result.error[:500]
    delivery.next_retry_at = None
    if result.ok:
        delivery.status = Status.DELIVERED
        delivery.delivered_at = now
    delivery.save()
    return result


def backoff(attempts: int) -> int:
    """Seconds to wait after attempt number ``attempts`` (1, 2, ...): Celery's
    exponential backoff (what ``retry_backoff`` uses) from
    ALERT_RETRY_BACKOFF seconds, capped at ALERT_RETRY_BACKOFF_MAX, with full
    jitter, at least 1 s."""
    return max(
        1,
        get_exponential_backoff_interval(
            settings.ALERT_RETRY_BACKOFF,
            attempts - 1,
            settings.ALERT_RETRY_BACKOFF_MAX,
            full_jitter=True,
        ),
    )


def deliver(delivery_id: int) -> int | None:
    """Make the next attempt of delivery ``delivery_id`` (:func:`attempt`) and
    decide what follows: the seconds until the next attempt (recorded as
    ``next_retry_at``) when the failure is worth retrying and fewer than
    ALERT_DELIVERY_ATTEMPTS were made; else None, after recording a final
    failure (:func:`give_up`)."""
    result = attempt(delivery_id)
    if result is None or result.ok:
        return None
    attempts = AlertDelivery.objects.values_list("attempts", flat=True).get(
        pk=delivery_id
    )
    if not result.retry or attempts >= settings.ALERT_DELIVERY_ATTEMPTS:
        give_up(delivery_id)
        return None
    seconds = backoff(attempts)
    AlertDelivery.objects.filter(pk=delivery_id).update(
        status=Status.RETRYING,
        next_retry_at=timezone.now() + timedelta(seconds=seconds),
    )
    return seconds


def give_up(delivery_id: int, error: str = "") -> None:
    """Record delivery ``delivery_id`` as failed for good, with one
    ``alert_undelivered`` audit row (the decision not to try again)."""
    delivery = AlertDelivery.objects.select_related("alert__app").get(pk=delivery_id)
    if delivery.status == Status.FAILED:
        return
    delivery.status = Status.FAILED
    delivery.next_retry_at = None
    if error:
        delivery.error = error[:500]
    delivery.save(update_fields=["status", "next_retry_at", "error", "updated_at"])
    alert = delivery.alert
    audit.record(
        "alert_undelivered",
        app=alert.app,
        scope_id=alert.scope_id,
        outcome="failure",
        detail={
            "alert": alert.pk,
            "kind": alert.kind,
            "title": alert.title,
            "destination": delivery.destination_name,
            "attempts": delivery.attempts,
            "status_code": delivery.status_code,
            "error": delivery.error,
        },
        key=f"alert_undelivered:{delivery.pk}",
    )
