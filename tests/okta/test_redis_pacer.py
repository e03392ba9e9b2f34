"""RedisPacer: several processes of one OAuth app share one share of each bucket."""

import math
import threading
import uuid

import pytest

from grantsconsole.okta import OktaClient
from grantsconsole.okta.pacing import parse_rate_limit_headers
from grantsconsole.okta.redis_pacer import RedisPacer

from .conftest import WORKER_ID
from .test_pacing import BUCKET, FakeClock, ModelBucket
from .test_rate_limits import windows_of

pytestmark = pytest.mark.redis


def prefix() -> str:
    return f"test:okta:{uuid.uuid4().hex}"


def test_two_processes_together_stay_within_one_share(redis_client):
    clock = FakeClock()
    key = prefix()
    pacers = [RedisPacer(redis_client, key, share=0.5, clock=clock) for _ in range(2)]
    bucket = ModelBucket(limit=20, window=5.0)
    for i in range(120):
        pacer = pacers[i % 2]  # the "processes" take turns
        ticket = pacer.before_request(BUCKET)
        sent = clock.now()
        clock.t += 0.01
        headers = bucket.handle(sent + 0.005)
        pacer.after_response(
            BUCKET, parse_rate_limit_headers(headers), sent, clock.now(), ticket
        )
    assert bucket.rejected == 0
    assert max(bucket.accepted_per_window) == 10  # 50% of 20, for both together
    assert len(bucket.accepted_per_window) == 12  # and no window wasted


def test_a_slot_of_a_crashed_process_is_freed(redis_client):
    clock = FakeClock()
    key = prefix()
    crashed = RedisPacer(redis_client, key, share=0.5, clock=clock, inflight_ttl=30)
    bucket = ModelBucket(limit=2, window=60.0)
    ticket = crashed.before_request(BUCKET)
    crashed.after_response(
        BUCKET,
        parse_rate_limit_headers(bucket.handle(clock.now())),
        clock.t,
        clock.t,
        ticket,
    )
    crashed.before_request(BUCKET)  # takes the slot of the next window... and dies
    survivor = RedisPacer(redis_client, key, share=0.5, clock=clock, inflight_ttl=30)
    start = clock.now()
    survivor.before_request(BUCKET)
    # waited for the dead request's slot to expire (1 s: Date resolution)
    assert clock.now() - start >= 29
    assert clock.now() - start <= 61


def test_release_frees_the_slot(redis_client):
    clock = FakeClock()
    pacer = RedisPacer(redis_client, prefix(), share=0.5, clock=clock)
    bucket = ModelBucket(limit=2, window=60.0)
    first = pacer.before_request(BUCKET)
    pacer.after_response(
        BUCKET,
        parse_rate_limit_headers(bucket.handle(clock.now())),
        clock.t,
        clock.t,
        first,
    )
    # budget is 1 per window: the next request waits for the reset ...
    start = clock.now()
    second = pacer.before_request(BUCKET)
    assert clock.now() - start > 50
    pacer.release(BUCKET, second)  # ... and, lost, gives its slot back
    pacer.before_request(BUCKET)


def test_two_worker_processes_against_the_simulator(sim, worker_source, redis_client):
    """Two clients in parallel threads, one shared RedisPacer key: zero 429s and
    never more than the app's share per window, in real time."""
    limit, window = 10, 2
    sim.set_rate_limit("apps", limit=limit, window_seconds=window)
    app_ids = [
        a["id"] for a in sim.state()["apps"] if a["sign_on_mode"] == "OPENID_CONNECT"
    ]
    key = prefix()
    errors: list[BaseException] = []

    def work(ids):
        try:
            client = OktaClient(
                sim.url, worker_source, pacer=RedisPacer(redis_client, key, share=0.5)
            )
            for app_id in ids:
                client.list_grants(app_id)
        except BaseException as exc:  # reported below
            errors.append(exc)

    ids = (app_ids * 4)[:16]
    threads = [threading.Thread(target=work, args=(ids[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    log = [r for r in sim.requests() if r["bucket"] == "apps"]
    assert len(log) == 16
    assert [r for r in log if r["status"] != 200] == []
    counts = windows_of([r["time"] for r in log], window)
    assert max(counts) <= math.floor(limit * 0.5)
    assert WORKER_ID in {r["caller"] for r in log}
