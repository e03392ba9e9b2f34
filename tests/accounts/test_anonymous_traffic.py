"""Anonymous traffic never writes into the audit chain: refusals without a
signed-in admin are counted in bounded SecurityEvent rows, the sign-in callback
and anonymous writes are rate limited, and request text in chained rows is cut
to a fixed size."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from grantsconsole.accounts import ratelimit, security_events
from grantsconsole.accounts.models import SecurityEvent
from grantsconsole.grants import audit
from grantsconsole.grants.models import AuditEvent
from tests.accounts import flow

pytestmark = pytest.mark.django_db(transaction=True)


def _chained() -> int:
    return AuditEvent.objects.count()


def _minute():
    return timezone.now().replace(second=0, microsecond=0)


def test_ten_thousand_anonymous_refusals_add_no_chained_row(sim, capsys):
    """Forged callbacks, writes without a session and writes without a CSRF
    token, 10,000 from 40 addresses at the default limit: 0 chained rows and
    at most ROWS_PER_MINUTE + 1 SecurityEvent rows a minute. Every refusal is
    counted: each address's first ANONYMOUS_REQUESTS_PER_MINUTE a minute reach
    their refusal, the rest are answered 429."""
    plain = Client(HTTP_HOST=flow.HOST)
    strict = Client(HTTP_HOST=flow.HOST, enforce_csrf_checks=True)
    attacker_text = "x" * 4000
    statuses: Counter[int] = Counter()
    first_minute = _minute()
    started = time.monotonic()
    for i in range(10_000):
        address = {"REMOTE_ADDR": f"203.0.113.{i % 40}"}
        match i % 3:
            case 0:
                response = plain.get(
                    flow.CALLBACK_PATH,
                    {
                        "code": "c",
                        "state": "forged",
                        "error_description": attacker_text,
                    },
                    **address,
                )
            case 1:
                response = plain.post(
                    f"/apps/0oa{attacker_text}/grants/grant", {"only": "x"}, **address
                )
            case 2:
                response = strict.post("/sync/start", {"kind": "full"}, **address)
        statuses[response.status_code] += 1
    elapsed = time.monotonic() - started
    # Every one-minute rate-limit window the run touched (on a loaded machine it
    # spans several), not just the first and the last.
    windows = int((_minute() - first_minute).total_seconds() // 60) + 1
    with capsys.disabled():
        print(f"\n10,000 anonymous refused requests: {elapsed:.1f} s, {dict(statuses)}")
    assert AuditEvent.objects.count() == 0
    assert set(statuses) <= {302, 400, 403, 429}
    limit = settings.ANONYMOUS_REQUESTS_PER_MINUTE
    refused = 10_000 - statuses[429]
    assert refused <= 40 * limit * windows
    # every refusal is counted, and one rate_limited event per address and window
    total = SecurityEvent.objects.aggregate(n=Sum("count"))["n"]
    assert refused + 40 <= total <= refused + 40 * windows
    kinds = set(SecurityEvent.objects.values_list("kind", flat=True))
    assert {"sign_in:state_invalid", "not_signed_in", "csrf"} <= kinds
    rows_per_minute = security_events.ROWS_PER_MINUTE + 1  # + the overflow row
    assert SecurityEvent.objects.count() <= rows_per_minute * windows
    paths = SecurityEvent.objects.values_list("sample_path", flat=True)
    assert max(len(p) for p in paths) <= 200


def test_past_the_limit_an_address_gets_429_and_writes_nothing(sim, settings):
    settings.ANONYMOUS_REQUESTS_PER_MINUTE = 5
    client = Client(HTTP_HOST=flow.HOST, REMOTE_ADDR="198.51.100.7")
    statuses = [
        client.post("/sync/start", {"kind": "full"}).status_code for _ in range(5)
    ]
    assert statuses == [302] * 5
    assert SecurityEvent.objects.get(kind="not_signed_in").count == 5
    for _ in range(20):
        response = client.post("/sync/start", {"kind": "full"})
        assert response.status_code == 429
        assert 0 < int(response["Retry-After"]) <= 61
        assert b"Too many requests" in response.content
    callback = client.get(flow.CALLBACK_PATH, {"code": "c", "state": "forged"})
    assert callback.status_code == 429
    # the refusals past the limit: one rate_limited event, no more rows, no chain
    assert SecurityEvent.objects.get(kind="not_signed_in").count == 5
    assert SecurityEvent.objects.get(kind="rate_limited").count == 1
    assert SecurityEvent.objects.count() == 2
    assert _chained() == 0
    # another address is not affected, nor are GET pages
    other = Client(HTTP_HOST=flow.HOST, REMOTE_ADDR="198.51.100.8")
    assert other.post("/sync/start", {"kind": "full"}).status_code == 302
    assert client.get("/accounts/login/").status_code == 200


def test_a_signed_in_admin_is_not_rate_limited(sim, settings):
    from tests.console.conftest import signed_in

    settings.ANONYMOUS_REQUESTS_PER_MINUTE = 1_000
    admin = signed_in(flow.SUPER)  # the sign-in itself: one POST, one callback
    settings.ANONYMOUS_REQUESTS_PER_MINUTE = 0
    for _ in range(3):
        assert admin.post("/sync/start", {"kind": "nothing"}).status_code == 302


def test_a_signed_in_refusal_is_still_chained(sim, settings):
    """A demoted admin's write: the authz_denied row names them."""
    from tests.console.conftest import signed_in

    settings.ACCOUNTS_ROLE_RECHECK_SECONDS = 0
    admin = signed_in(flow.SUPER)
    sim.set_roles(flow.SUPER, ["READ_ONLY_ADMIN"])
    assert admin.post("/sync/start", {"kind": "full"}).status_code == 403
    denied = AuditEvent.objects.get(action="authz_denied")
    assert denied.actor_login == flow.SUPER
    assert not SecurityEvent.objects.exists()


def test_past_the_rows_of_a_minute_refusals_share_one_overflow_row(sim):
    client = Client(HTTP_HOST=flow.HOST)
    extra = 15
    for _ in range(2):
        for i in range(security_events.ROWS_PER_MINUTE + extra):
            client.post("/sync/start", REMOTE_ADDR=f"192.0.2.{i}")
    rows = dict(SecurityEvent.objects.values_list("source", "count"))
    assert len(rows) == security_events.ROWS_PER_MINUTE + 1
    assert rows[security_events.OVERFLOW] == 2 * extra
    assert rows["192.0.2.0"] == 2
    overflow = SecurityEvent.objects.get(source=security_events.OVERFLOW)
    assert overflow.kind == security_events.OVERFLOW


def test_an_ipv6_sender_is_one_source_per_64_network(sim):
    client = Client(HTTP_HOST=flow.HOST)
    for host in ("1", "2", "ffff:1"):
        client.post("/sync/start", REMOTE_ADDR=f"2001:db8:1:2::{host}")
    event = SecurityEvent.objects.get()
    assert (event.source, event.count) == ("2001:db8:1:2::/64", 3)


def test_old_security_events_are_purged(db, settings):
    from grantsconsole.accounts import tasks

    settings.SECURITY_EVENT_RETENTION_DAYS = 7
    now = timezone.now().replace(second=0, microsecond=0)
    for days in (0, 6, 8, 40):
        at = now - timedelta(days=days)
        SecurityEvent.objects.create(
            source=f"10.0.0.{days}", kind="csrf", minute=at, first_seen=at, last_seen=at
        )
    assert tasks.purge_security_events() == 2
    assert sorted(SecurityEvent.objects.values_list("source", flat=True)) == [
        "10.0.0.0",
        "10.0.0.6",
    ]


def test_the_purge_is_scheduled_daily():
    from celery.schedules import crontab

    from grantsconsole.celery import app

    entry = app.conf.beat_schedule["accounts-purge-security-events"]
    assert entry["task"] == "accounts.purge_security_events"
    assert isinstance(entry["schedule"], crontab)


def test_hit_counts_per_key_and_window(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.hit("a")[0] for _ in range(3)] == [1, 2, 3]
    assert ratelimit.hit("b") == (1, 21)  # 1,000,000 s is 40 s into a minute
    now[0] += 60
    assert ratelimit.hit("a")[0] == 1


def test_hit_lets_requests_through_when_the_cache_is_down(monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(ratelimit.cache, "add", down)
    assert ratelimit.hit("a")[0] == 0


def test_request_text_in_a_chained_row_is_cut_to_a_fixed_size(sim):
    """A signed-in admin's CSRF failure on a 4 kB path, and any caller's detail."""
    from tests.console.conftest import signed_in

    admin = signed_in(flow.SUPER, enforce_csrf=True)
    response = admin.post(f"/apps/0oa{'A' * 4000}/grants/grant", {"only": "x"})
    assert response.status_code == 403
    denied = AuditEvent.objects.get(action="authz_denied")
    assert len(denied.detail["path"]) == 200
    row = audit.record(
        "sign_in",
        outcome="failure",
        detail={"ua": "U" * 5000, "nested": {"k" * 900: ["d" * 9000]}},
    )
    row.refresh_from_db()
    assert len(row.detail["ua"]) == audit.DETAIL_TEXT_LIMIT
    [(key, [value])] = row.detail["nested"].items()
    assert len(key) == len(value) == audit.DETAIL_TEXT_LIMIT
    assert row.row_hash == audit.compute_hash(row.prev_hash, row)


def test_behind_the_router_the_callers_address_is_recorded(sim, settings):
    """Production trusts one proxy (the platform's router): the address it
    appends to X-Forwarded-For is the caller's, REMOTE_ADDR is the router's."""
    from tests.console.conftest import signed_in

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    via_router = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    Client(HTTP_HOST=flow.HOST).post("/sync/start", **via_router)
    assert SecurityEvent.objects.get().source == "198.51.100.9"
    admin = signed_in(flow.SUPER, enforce_csrf=True)
    assert admin.post("/sync/start", **via_router).status_code == 403
    assert AuditEvent.objects.get(action="authz_denied").detail["ip"] == "198.51.100.9"
