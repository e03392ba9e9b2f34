"""Property tests (hypothesis) for the pacing invariant and Link parsing."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from grantsconsole.okta.links import parse_links
from grantsconsole.okta.pacing import LocalPacer, parse_rate_limit_headers

from .test_pacing import BUCKET, FakeClock, ModelBucket


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=60),
    window=st.integers(min_value=1, max_value=60),
    share=st.sampled_from([0.1, 0.25, 0.4, 0.5, 0.75, 1.0]),
    skew=st.floats(min_value=-5000, max_value=5000),
    latency=st.floats(min_value=0.0, max_value=0.9),
    others=st.integers(min_value=0, max_value=60),
    requests=st.integers(min_value=1, max_value=120),
)
def test_pacer_never_exceeds_share_nor_gets_429(
    limit, window, share, skew, latency, others, requests
):
    """Whatever the skew, latency and load from other tools (as long as they
    leave our share free), we never exceed our share of a window, never get a
    429, and (unless latency alone fills a window) use every window."""
    others = min(others, limit - max(1, math.floor(limit * share + 1e-9)))
    clock = FakeClock()
    pacer = LocalPacer(share, clock=clock)
    bucket = ModelBucket(limit=limit, window=float(window), skew=skew)
    for _ in range(requests):
        pacer.before_request(BUCKET)
        sent = clock.now()
        clock.t += latency
        headers = bucket.handle(sent + latency / 2, other_clients=others)
        pacer.after_response(
            BUCKET, parse_rate_limit_headers(headers), sent, clock.now()
        )
    per_window = max(1, math.floor(limit * share + 1e-9))
    assert bucket.rejected == 0
    assert max(bucket.accepted_per_window) <= per_window
    if per_window * latency * 2 < window:  # not latency-bound: no window wasted
        assert len(bucket.accepted_per_window) <= math.ceil(requests / per_window) + 1


_url = st.from_regex(
    r"https://org\.example\.com/api/v1/apps\?after=[A-Za-z0-9,;=]{1,20}", fullmatch=True
)


@given(
    next_url=_url,
    self_url=_url,
    quoted=st.booleans(),
    joined=st.booleans(),
    next_first=st.booleans(),
)
def test_links_in_any_form(next_url, self_url, quoted, joined, next_first):
    rel = '"{}"' if quoted else "{}"
    headers = [
        f"<{self_url}>; rel={rel.format('self')}",
        f"<{next_url}>; rel={rel.format('next')}",
    ]
    if next_first:
        headers.reverse()
    value = ", ".join(headers) if joined else headers
    links = parse_links(value)
    assert links["next"] == next_url
    assert links["self"] == self_url
