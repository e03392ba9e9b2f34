"""The rate-limit pacer's Redis connection checks TLS certificates like the broker."""

from __future__ import annotations

import pytest

from grantsconsole import okta_clients


@pytest.mark.parametrize(("verify", "cert_reqs"), [(True, "required"), (False, None)])
def test_the_pacer_verifies_a_rediss_certificate_unless_opted_out(
    settings, verify, cert_reqs
):
    settings.REDIS_URL = "rediss://:pw@redis.example.com:6380"
    settings.REDIS_TLS_VERIFY = verify
    pacer = okta_clients._pacer("https://example.okta.com", "0oa1worker")
    kwargs = pacer.redis.connection_pool.connection_kwargs
    assert kwargs["ssl_cert_reqs"] == cert_reqs
