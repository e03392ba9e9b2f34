"""LocalPacer and ServerClock against a model of Okta's windows, on a fake clock."""

import email.utils
import math

import pytest
from requests.structures import CaseInsensitiveDict

from grantsconsole.okta.pacing import LocalPacer, ServerClock, parse_rate_limit_headers

BUCKET = "/api/v1/apps*"


class FakeClock:
    """Local clock for tests: sleeping advances time instantly."""

    def __init__(self, start: float = 1_800_000_000.25) -> None:
        self.t = start
        self.slept = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.t += seconds
            self.slept += seconds


class ModelBucket:
    """Okta-like windows of ``window`` whole seconds, back to back, each ending
    at the integer second reported in Reset (Okta's clock = local + skew)."""

    def __init__(self, limit: int, window: float, skew: float = 0.0) -> None:
        self.limit, self.window, self.skew = limit, window, skew
        self.reset = 0
        self.used = 0
        self.rejected = 0
        self.accepted_per_window: list[int] = []

    def handle(self, local_now: float, other_clients: int = 0) -> CaseInsensitiveDict:
        server_now = local_now + self.skew
        if server_now >= self.reset:
            if self.reset and server_now < self.reset + self.window:
                self.reset += int(self.window)  # the next contiguous window
            else:
                self.reset = math.ceil(server_now) + int(self.window)
            self.accepted_per_window.append(0)
            self.used = min(self.limit, other_clients)
        if self.used >= self.limit:
            self.rejected += 1
        else:
            self.used += 1
            self.accepted_per_window[-1] += 1
        return CaseInsensitiveDict(
            {
                "X-Rate-Limit-Limit": str(self.limit),
                "X-Rate-Limit-Remaining": str(self.limit - self.used),
                "X-Rate-Limit-Reset": str(self.reset),
                "Date": email.utils.formatdate(math.floor(server_now), usegmt=True),
            }
        )


def run(pacer: LocalPacer, clock: FakeClock, bucket: ModelBucket, n: int, **kw):
    for _ in range(n):
        pacer.before_request(BUCKET)
        sent = clock.now()
        clock.t += 0.01  # request latency
        headers = bucket.handle(sent + 0.005, **kw)
        pacer.after_response(
            BUCKET, parse_rate_limit_headers(headers), sent, clock.now()
        )


@pytest.mark.parametrize("share", [0.5, 1.0])
@pytest.mark.parametrize("skew", [0.0, 37.6, -123.4])
def test_pacer_spends_the_share_each_window_and_never_exceeds_it(share, skew):
    clock = FakeClock()
    pacer = LocalPacer(share, clock=clock)
    bucket = ModelBucket(limit=20, window=5.0, skew=skew)
    start = clock.now()
    n = 205
    run(pacer, clock, bucket, n)
    per_window = math.floor(20 * share)
    assert bucket.rejected == 0
    assert max(bucket.accepted_per_window) <= per_window
    windows = math.ceil(n / per_window)
    floor = (windows - 1) * 5.0
    elapsed = clock.now() - start
    # Each window boundary costs at most the Date resolution uncertainty.
    assert elapsed <= floor * 1.10 + 1.0, (elapsed, floor)
    assert len(bucket.accepted_per_window) == windows


def test_pacer_backs_off_when_another_client_drains_the_bucket():
    clock = FakeClock()
    pacer = LocalPacer(0.5, clock=clock)
    bucket = ModelBucket(limit=20, window=5.0)
    # Another tool takes 10 of each window's 20 before us: we still get our 10.
    run(pacer, clock, bucket, 60, other_clients=10)
    assert bucket.rejected == 0
    assert len(bucket.accepted_per_window) == 6
    # ... and 15 of 20: Remaining, not our share, is what stops us.
    clock2 = FakeClock()
    pacer2 = LocalPacer(0.5, clock=clock2)
    bucket2 = ModelBucket(limit=20, window=5.0)
    run(pacer2, clock2, bucket2, 50, other_clients=15)
    assert bucket2.rejected == 0
    assert max(bucket2.accepted_per_window) == 5


def test_pacer_without_headers_does_not_block():
    clock = FakeClock()
    pacer = LocalPacer(0.5, clock=clock)
    for _ in range(50):
        pacer.before_request(BUCKET)
        pacer.after_response(
            BUCKET, parse_rate_limit_headers(CaseInsensitiveDict()), clock.t, clock.t
        )
    assert clock.slept == 0


def test_server_clock_narrows_offset_from_date_headers():
    sc = ServerClock()
    offset = 12.345
    t = 1_000.0
    for i in range(40):
        t += 0.137 * (i % 7 + 1)
        server = t + offset + 0.002
        sc.observe(math.floor(server), t, t + 0.004)
    estimate_local = sc.to_local(2_000.0)
    assert estimate_local is not None
    truth = 2_000.0 - offset
    assert truth <= estimate_local + 1e-9  # never early
    assert estimate_local - truth < 0.2  # and close
    sc.observe(math.floor(t + 500 + offset), t, t + 0.004)  # clock jumped
    assert sc.to_local(2_000.0) < truth - 400


def test_share_must_be_a_fraction():
    with pytest.raises(ValueError, match="share"):
        LocalPacer(0)
    with pytest.raises(ValueError, match="share"):
        LocalPacer(1.5)
    assert LocalPacer(0.5).budget(1) == 1
    assert LocalPacer(0.5).budget(100) == 50


def test_shared_pacer_is_one_per_key_and_share():
    from grantsconsole.okta import shared_pacer

    a = shared_pacer("https://example.okta.com 0oa1console", 0.5)
    assert shared_pacer("https://example.okta.com 0oa1console", 0.5) is a
    assert shared_pacer("https://example.okta.com 0oa1worker", 0.5) is not a
    assert shared_pacer("https://example.okta.com 0oa1console", 0.4) is not a


def test_pacer_raises_instead_of_waiting_past_max_wait():
    from grantsconsole.okta import OktaRateLimited

    clock = FakeClock()
    pacer = LocalPacer(0.5, clock=clock)
    bucket = ModelBucket(limit=2, window=60.0)
    run(pacer, clock, bucket, 1)
    with pytest.raises(OktaRateLimited) as err:
        pacer.before_request(BUCKET, max_wait=5)
    assert 58 <= err.value.retry_after <= 61.5  # to the reset (+ margin)
    assert clock.slept == 0
    pacer.before_request(BUCKET, max_wait=62)  # a patient caller still gets through
    assert clock.slept > 58
