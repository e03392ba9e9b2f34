"""No token, refresh token, client secret, assertion or key in logs, errors or reprs."""

import logging

import pytest

from grantsconsole.okta import (
    OktaClient,
    OktaError,
    OktaUnauthorized,
    ServiceAppTokenSource,
    SswsTokenSource,
    TokenSet,
)

from .conftest import (
    CONSOLE_SECRET,
    SSWS_TOKEN,
    WORKER_ID,
    WORKER_PEM,
    WORKER_SCOPES,
    user_source,
)

CONSOLE = "0oa1consoleDEMO000x7"


def pem_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and "-----" not in line]


def test_no_secret_in_debug_logs_errors_or_reprs(sim, clock, admin_tokens, debug_logs):
    secrets: list[str] = [SSWS_TOKEN, CONSOLE_SECRET, *pem_lines(WORKER_PEM)]
    secrets += [admin_tokens["access_token"], admin_tokens["refresh_token"]]
    texts: list[str] = []

    # Service app: token fetch, assertion, a listing, a 401 and a re-fetch.
    worker = ServiceAppTokenSource(
        sim.url, WORKER_ID, WORKER_PEM, scopes=WORKER_SCOPES, clock=clock
    )
    assertions: list[str] = []
    original = worker._assertion

    def spy():
        assertions.append(original())
        return assertions[-1]

    worker._assertion = spy
    worker_client = OktaClient(sim.url, worker, clock=clock)
    list(worker_client.iter_oidc_apps())
    clock.offset += 10
    sim.fault("/grants$", status=401)
    worker_client.list_grants(CONSOLE)
    secrets += assertions
    secrets.append(worker.authorization().removeprefix("Bearer "))

    # The admin's token: refreshed before expiry, then a grant and a revoke.
    stored: list[TokenSet] = []
    admin = user_source(
        sim, admin_tokens, clock, expires_at=clock.now() + 5, on_refresh=stored.append
    )
    admin_okta = OktaClient(sim.url, admin, clock=clock)
    result = admin_okta.grant_scope(WORKER_ID, "okta.groups.read")
    admin_okta.revoke_grant(WORKER_ID, result.grant.id)
    secrets += [stored[0].access_token, stored[0].refresh_token]

    # Errors: a refused SSWS token and a refused refresh.
    with pytest.raises(OktaUnauthorized) as bad_ssws:
        OktaClient(sim.url, SswsTokenSource(SSWS_TOKEN + "x"), clock=clock).list_grants(
            CONSOLE
        )
    secrets.append(SSWS_TOKEN + "x")
    sim.advance_clock(4000)
    broken = user_source(
        sim, {**admin_tokens, "refresh_token": "rt-secret-0000"}, clock
    )
    secrets.append("rt-secret-0000")
    with pytest.raises(OktaError) as bad_refresh:
        OktaClient(sim.url, broken, clock=clock).list_grants(CONSOLE)

    texts += [debug_logs.text]
    texts += [str(e.value) + repr(e.value) for e in (bad_ssws, bad_refresh)]
    texts += [repr(x) for x in (worker, admin, broken, admin_okta, stored[0])]
    texts += [repr(SswsTokenSource(SSWS_TOKEN))]
    assert any(r.levelno == logging.DEBUG for r in debug_logs.records)
    assert "/api/v1/apps" in debug_logs.text  # the log does describe the calls
    everything = "\n".join(texts)
    for secret in secrets:
        assert secret
        assert secret not in everything
