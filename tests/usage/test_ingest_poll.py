"""Usage ingestion against the simulator: the cursor, a page read again after
a crash, a gap, a malformed event in a page, pacing within the usage share,
and the beat task."""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import unquote_plus

import pytest
from django.utils import timezone

from grantsconsole import celery_app, okta_clients
from grantsconsole.grants.models import LogCursor
from grantsconsole.usage import ingest, mapping, tasks
from grantsconsole.usage.ingest import Skip
from grantsconsole.usage.models import (
    DailyUsage,
    Gap,
    Observation,
    SkippedEvents,
    UsageEvent,
)
from tests.usage.events import SERVICE_APP, add_to_sim, token_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sim, settings):
    """The usage client (the worker's credentials) for the reset simulator."""
    settings.OKTA_ORG_URL = sim.url
    okta_clients.forget_worker_clients()
    yield okta_clients.usage_client()
    okta_clients.forget_worker_clients()


def most_in_one_window(times: list[float], seconds: float) -> int:
    """The most requests in one rate-limit window, counted as the simulator
    counts them: a window starts on the whole second of the first request
    after the previous one ended."""
    most = count = 0
    start = float("-inf")
    for t in times:
        if t >= start + seconds:
            start, count = float(math.floor(t)), 0
        count += 1
        most = max(most, count)
    return most


def issued(scope_id: str = "okta.users.read") -> int:
    return sum(
        DailyUsage.objects.filter(client_id=SERVICE_APP, scope_id=scope_id).values_list(
            "issued", flat=True
        )
    )


def test_the_first_poll_reads_back_the_lookback_and_coverage_starts_there(
    sim, sim_server, client, settings
):
    settings.USAGE_FIRST_LOOKBACK_DAYS = 30
    add_to_sim(sim_server, token_grant("okta.users.read, okta.users.manage"))
    before = timezone.now()
    result = ingest.ingest(client)
    after = timezone.now()
    assert result.caught_up
    assert result.recorded >= 1
    assert not result.message
    assert issued("okta.users.read") == issued("okta.users.manage") == 1
    seen = Observation.objects.get(name="usage")
    lookback = timedelta(days=30)
    assert before - lookback <= seen.observed_from <= after - lookback
    assert seen.observed_to >= before
    # Server-side filter: only the event types the table knows are asked for.
    first = next(r for r in sim.requests() if r["path"] == "/api/v1/logs")
    assert mapping.log_filter() in unquote_plus(first["query"])


def test_the_cursor_survives_a_restart_and_nothing_is_read_twice(sim_server, client):
    add_to_sim(sim_server, token_grant("okta.users.read"))
    ingest.ingest(client)
    stored = LogCursor.objects.get(name=ingest.CURSOR_NAME).next_url
    assert stored
    # A new process: a new client, the cursor from the database.
    okta_clients.forget_worker_clients()
    add_to_sim(sim_server, token_grant("okta.users.read"))
    again = ingest.ingest(okta_clients.usage_client())
    assert again.duplicates == 0
    assert issued() == 2


def test_a_page_read_again_after_a_crash_is_counted_once(
    sim_server, client, monkeypatch
):
    for _ in range(3):
        add_to_sim(sim_server, token_grant("okta.users.read"))
    real_save = LogCursor.save

    def crash(self, *args, **kwargs):
        raise RuntimeError("worker killed before the commit")

    monkeypatch.setattr(LogCursor, "save", crash)
    with pytest.raises(RuntimeError):
        ingest.ingest(client)
    assert not UsageEvent.objects.exists()  # the page's transaction rolled back
    monkeypatch.setattr(LogCursor, "save", real_save)
    ingest.ingest(client)
    assert issued() == 3
    # And a page recorded, then read again from an older cursor, adds nothing.
    LogCursor.objects.filter(name=ingest.CURSOR_NAME).update(
        next_url="", since=timezone.now() - timedelta(days=1)
    )
    again = ingest.ingest(client)
    assert again.duplicates >= 3
    assert again.recorded == 0
    assert issued() == 3


def test_a_refused_cursor_is_replaced_by_a_poll_by_time_without_a_gap(
    sim, sim_server, client
):
    add_to_sim(sim_server, token_grant("okta.users.read"))
    ingest.ingest(client)
    sim.fault("/api/v1/logs$", status=400, error_code="E0000029")
    add_to_sim(sim_server, token_grant("okta.users.read"))
    result = ingest.ingest(client)
    assert result.caught_up, result.message
    assert issued() == 2
    assert not Gap.objects.exists()


def test_a_console_away_longer_than_okta_keeps_events_records_a_gap(sim_server, client):
    ingest.ingest(client)
    away = timezone.now() - timedelta(days=100)
    Observation.objects.filter(name="usage").update(
        observed_from=away - timedelta(days=5), observed_to=away
    )
    add_to_sim(sim_server, token_grant("okta.users.read"))
    result = ingest.ingest(client)
    gap = Gap.objects.get()
    assert result.gap is not None
    assert gap.started_at == away
    assert (
        timedelta(days=9)
        < gap.ended_at - gap.started_at
        <= timedelta(days=10, seconds=5)
    )
    assert "Okta keeps events for 90" in gap.reason
    seen = Observation.objects.get(name="usage")
    assert seen.observed_from == gap.ended_at  # coverage restarts after the gap
    assert issued() == 1


def test_a_malformed_event_is_skipped_and_the_rest_of_its_page_kept(sim, client):
    good = token_grant("okta.users.read", published=timezone.now())
    broken = {**token_grant(published=timezone.now()), "published": "yesterday"}
    sim.fault("/api/v1/logs$", kind="wrong_shape", body=[good, broken])
    result = ingest.ingest(client)
    assert result.recorded == 1
    assert result.skipped == 1
    row = SkippedEvents.objects.get(reason=Skip.MALFORMED)
    assert (row.count, row.example_uuid) == (1, broken["uuid"])
    assert issued() == 1


def test_polling_stays_within_the_usage_share_of_the_logs_bucket(
    sim, sim_server, settings, monkeypatch
):
    # Four requests per one-second window; the usage share is half of it.
    settings.OKTA_ORG_URL = sim.url
    settings.USAGE_LOGS_BUCKET_SHARE = 0.5
    sim.set_rate_limit("logs", 4, window_seconds=1)
    monkeypatch.setattr(ingest, "PAGE_LIMIT", 5)
    for _ in range(28):
        add_to_sim(sim_server, token_grant("okta.users.read"))
    okta_clients.forget_worker_clients()
    client = okta_clients.usage_client()
    result = ingest.ingest(client)
    okta_clients.forget_worker_clients()
    assert result.caught_up
    assert issued() == 28
    logs = [r for r in sim.requests() if r["path"] == "/api/v1/logs"]
    assert len(logs) >= 6
    assert {r["status"] for r in logs} == {200}  # 0 429s
    # Never more than the share (2 of 4) in one of the simulator's windows.
    assert most_in_one_window([r["time"] for r in logs], 1.0) == 2
    assert client.stats()["pacing_waits"] > 0


def test_the_beat_task_ingests_and_purges(sim_server, client, settings):
    celery_app.finalize()
    entry = celery_app.conf.beat_schedule["usage-ingest"]
    assert entry["task"] == "usage.ingest"
    assert entry["schedule"] == float(settings.USAGE_INGEST_EVERY)
    add_to_sim(sim_server, token_grant("okta.users.read"))
    figures = tasks.ingest()
    assert figures["recorded"] >= 1
    assert figures["caught_up"]
    assert issued() == 1
